#!/usr/bin/env python3
"""PyTorch beside facet, with the same thread count, in one run. Prints facet's and PyTorch's
medians and the ratio torch / facet (above 1: facet is faster).
  bench/torch_ref.py FACET_CONV_LAYERS_BINARY [BATCH]     conv2d and batchnorm (bench/conv_layers.cpp)
  bench/torch_ref.py heads FACET_LOSS_HEADS_BINARY [cpu|cuda]
                                                          the ArcFace head (bench/loss_heads.cpp)
  bench/torch_ref.py train_step FACET_TRAIN_STEP_BINARY [cpu|cuda] [MODEL]
                                                          a training step per head (bench/train_step.cpp)"""
import os
import statistics
import subprocess
import sys
import time

CASES = {  # name: (in channels, out channels, side, kernel)
    "conv_1x32_28_k3": (1, 32, 28, 3),
    "conv_1x32_28_k5": (1, 32, 28, 5),
    "conv_32x64_28_k3": (32, 64, 28, 3),
    "conv_64x128_14_k3": (64, 128, 14, 3),
    "conv_32x64_28_k5": (32, 64, 28, 5),
    "bn_32_28": (32, None, 28, None),
    "bn_128_14": (128, None, 14, None),
}


def median_ms(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def torch_times(batch, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    out = {}
    for name, (cin, cout, side, k) in CASES.items():
        if cout is not None:
            x = torch.randn(batch, cin, side, side)
            w = (torch.randn(cout, cin, k, k) * 0.1).requires_grad_()
            b = torch.zeros(cout, requires_grad=True)
            conv = lambda: torch.nn.functional.conv2d(x, w, b, padding=k // 2)

            def fwd():
                with torch.no_grad():
                    conv()

            def both():
                w.grad = None
                b.grad = None
                conv().sum().backward()
        else:
            bn = torch.nn.BatchNorm2d(cin)
            x = torch.randn(batch, cin, side, side, requires_grad=True)

            def fwd():
                with torch.no_grad():
                    bn(x)

            def both():
                x.grad = None
                bn(x).sum().backward()
        out[name] = (median_ms(fwd), median_ms(both))
    return out


def arcface_reference(torch, x, weight, labels, s=30.0, m=0.50):
    """The widely ported PyTorch ArcMarginProduct forward (easy_margin off), then cross-entropy:
    a B x C one-hot blends phi into the cosine matrix."""
    import math

    F = torch.nn.functional
    cosine = F.linear(F.normalize(x), F.normalize(weight))
    sine = torch.sqrt((1.0 - cosine * cosine).clamp(0, 1))
    phi = cosine * math.cos(m) - sine * math.sin(m)
    phi = torch.where(cosine > math.cos(math.pi - m), phi, cosine - math.sin(math.pi - m) * m)
    one_hot = torch.zeros(cosine.size(), device=x.device)
    one_hot.scatter_(1, labels.view(-1, 1).long(), 1)
    logits = (one_hot * phi + (1.0 - one_hot) * cosine) * s
    return F.cross_entropy(logits, labels)


def heads(binary, where):
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
    facet = {}
    for line in subprocess.run([binary, where], check=True, capture_output=True, text=True).stdout.splitlines():
        name, fused, composed, copy, fused_mib, composed_mib = line.split()
        facet[name] = (float(fused), float(composed), float(copy), float(fused_mib), float(composed_mib))
    ref, version = {}, None
    try:
        import torch

        version = torch.__version__
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        dev = torch.device(where)
        sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
        for name in facet:
            classes = int(name.split("_C")[1])
            x = torch.randn(256, 512, device=dev, requires_grad=True)
            weight = torch.empty(classes, 512, device=dev)
            torch.nn.init.xavier_uniform_(weight)
            weight.requires_grad_()
            labels = torch.tensor([(i * 7919) % classes for i in range(256)], device=dev)

            def step():
                x.grad = None
                weight.grad = None
                arcface_reference(torch, x, weight, labels).backward()
                sync()

            ms = median_ms(step, 3 if classes >= 100000 and dev.type == "cpu" else 7)
            peak = float("nan")
            if dev.type == "cuda":
                x.grad = None
                weight.grad = None
                torch.cuda.reset_peak_memory_stats()
                before = torch.cuda.memory_allocated()
                step()
                peak = (torch.cuda.max_memory_allocated() - before) / 2**20
            ref[name] = (ms, peak)
    except ImportError:
        pass
    print(f"ArcFace head forward + backward, B 256, D 512, {where}, {threads} threads, median ms"
          + (f"; PyTorch {version} running the reference code" if version else "; PyTorch not installed"))
    print(f"{'case':16} {'fused':>9} {'composed':>9} {'torch':>9} {'torch/fused':>11} {'copy floor':>10}"
          f" {'fused MiB':>9} {'comp. MiB':>9} {'torch MiB':>9}")
    for name, (fused, composed, copy, fused_mib, composed_mib) in facet.items():
        tms, tmib = ref.get(name, (float("nan"), float("nan")))
        print(f"{name:16} {fused:9.2f} {composed:9.2f} {tms:9.2f} {tms / fused:11.2f} {copy:10.3f}"
              f" {fused_mib:9.1f} {composed_mib:9.1f} {tmib:9.1f}")
    print("copy floor: one read and one write of the B x C logits, the traffic the fused kernels replace;"
          " MiB: peak allocated beyond the inputs (PyTorch's only on a GPU)")


def exact_fp32(torch):
    """float32 without TF32 on the GPU, as facet runs it unless set_allow_tf32(true): PyTorch lets
    cuDNN's convolutions use TF32 by default."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):  # PyTorch 2.9 on
        conv.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


def torch_train_steps(heads, where, model_name, batch):
    """The step of bench/train_step.cpp in PyTorch, with examples/reference/train_torch.py's models
    and heads: {head: (eager ms, CUDA-graph ms or nan, peak MiB or nan)}."""
    import torch

    exact_fp32(torch)

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "reference"))
    import train_torch

    dev = torch.device(where)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    repeats = 21 if dev.type == "cuda" else 7
    torch.manual_seed(1)
    x = torch.randn(batch, 1, 28, 28, device=dev)
    y = torch.tensor([(i * 7) % 10 for i in range(batch)], device=dev)
    out = {}
    for head in heads:
        model = train_torch.TrainModel(model_name, head, 128).to(dev).train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)

        def step():
            train_torch.train_step(model, opt, x, y)

        def timed(fn):
            fn()
            sync()
            return fn

        step()  # two warm-up steps, as bench/train_step.cpp (median_ms runs the second)
        eager = median_ms(lambda: timed(step), repeats)
        peak = float("nan")
        if dev.type == "cuda":
            sync()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            timed(step)
            peak = (torch.cuda.max_memory_allocated() - before) / 2**20
        graph_ms = float("nan")
        # SphereFace reads its lambda on the host: its capture would fail and could leave the
        # capture's stream behind for the heads after it (facet has no graph for it either).
        if dev.type == "cuda" and head != "sphereface":
            try:  # the whole step captured once and replayed (warm-up on a side stream, as PyTorch asks)
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(3):
                        step()
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    step()
                graph_ms = median_ms(lambda: timed(graph.replay), repeats)
            except RuntimeError:  # a head that reads a value on the host (sphereface's lambda) cannot be captured
                graph_ms = float("nan")
        out[head] = (eager, graph_ms, peak)
    return out


TRAIN_HEADS = ("softmax", "center", "cosface", "arcface", "sphereface", "combined", "subcenter")


def train_steps(binary, where, model_name):
    """Per head, rounds of (facet's step, PyTorch's), the order flipped each round; the ratio is the
    median over the rounds of each round's PyTorch / facet, so both sides of a ratio ran within
    seconds of each other: this VM's speed drifts by a third from minute to minute."""
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
    rounds = int(os.environ.get("FACET_BENCH_ROUNDS", "3"))
    heads = os.environ.get("FACET_BENCH_HEADS", ",".join(TRAIN_HEADS)).split(",")  # e.g. softmax,arcface
    batch = 256
    try:
        import torch

        version = torch.__version__
        torch.set_num_threads(threads)
    except ImportError:
        torch, version = None, None

    def run_facet(head):
        line = subprocess.run([binary, where, model_name, str(batch), head], check=True, capture_output=True,
                              text=True).stdout.split()
        graph_ms = float(line[4]) if len(line) > 4 else float("nan")  # facet replaying a CUDA graph (GPU)
        return float(line[1]), float(line[3]), graph_ms

    def run_torch(head):
        return torch_train_steps([head], where, model_name, batch)[head] if torch is not None else None

    nan = float("nan")
    mid = lambda values: statistics.median(values) if values else nan
    rows = {}
    for head in heads:
        facet, ref = [], []
        for r in range(rounds):
            if r % 2 == 0:
                facet.append(run_facet(head))
                ref.append(run_torch(head))
            else:
                ref.append(run_torch(head))
                facet.append(run_facet(head))
        ms, mib, fgms = mid([f[0] for f in facet]), mid([f[1] for f in facet]), mid([f[2] for f in facet])
        if torch is None:
            rows[head] = (ms, nan, nan, fgms, nan, nan, nan, mib, nan)
            continue
        ratios = [t[0] / f[0] for f, t in zip(facet, ref)]
        # facet's best (its graph where it has one) against PyTorch's graph, round by round
        graph_ratios = [t[1] / (f[2] if f[2] == f[2] else f[0]) for f, t in zip(facet, ref)]
        graph_graph = [t[1] / f[2] for f, t in zip(facet, ref)]
        rows[head] = (ms, mid([t[0] for t in ref]), mid([t[1] for t in ref]), fgms, mid(ratios), mid(graph_ratios),
                      mid(graph_graph), mib, mid([t[2] for t in ref]))
    print(f"training step of the example ({model_name}, 128-d features), batch {batch}, {where}, {threads} threads,"
          f" medians of {rounds} rounds" + (f"; PyTorch {version}" if version else "; PyTorch not installed"))
    print(f"{'head':11} {'facet ms':>9} {'torch ms':>9} {'graph ms':>9} {'f graph':>8} {'facet img/s':>11}"
          f" {'torch img/s':>11} {'ratio':>6} {'vs graph':>8} {'g vs g':>6} {'facet MiB':>9} {'torch MiB':>9}")
    for head, (ms, tms, gms, fgms, ratio, gratio, ggratio, mib, tmib) in rows.items():
        print(f"{head:11} {ms:9.3f} {tms:9.3f} {gms:9.3f} {fgms:8.3f} {batch * 1e3 / ms:11.0f} {batch * 1e3 / tms:11.0f}"
              f" {ratio:6.2f} {gratio:8.2f} {ggratio:6.2f} {mib:9.1f} {tmib:9.1f}")
    print("ratio = the median over the rounds of PyTorch eager time / facet eager time in the same round (above 1:"
          " facet is faster); graph ms / f graph: PyTorch / facet replaying the step as a CUDA graph (GPU only;"
          " facet has none for SphereFace, whose lambda anneals on the host); vs graph: PyTorch's graph against"
          " facet's graph where it has one, else its eager step; g vs g: graph against graph; MiB: peak allocated"
          " by a step beyond the model and optimizer state (PyTorch's only on a GPU)")


def main():
    if sys.argv[1] == "train_step":
        train_steps(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "cpu",
                    sys.argv[4] if len(sys.argv) > 4 else "cnn")
        return
    if sys.argv[1] == "heads":
        heads(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "cpu")
        return
    binary = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
    facet = {}
    for line in subprocess.run([binary, str(batch)], check=True, capture_output=True, text=True).stdout.splitlines():
        name, fwd, both = line.split()
        facet[name] = (float(fwd), float(both))
    try:
        ref = torch_times(batch, threads)
        version = __import__("torch").__version__
    except ImportError:
        ref, version = {}, None
    print(f"conv2d / batchnorm2d, batch {batch}, {threads} threads, median ms"
          + (f"; PyTorch {version}" if version else "; PyTorch not installed (apt-get install python3-torch)"))
    print(f"{'case':20} {'facet fwd':>10} {'torch fwd':>10} {'ratio':>6}   {'facet f+b':>10} {'torch f+b':>10} {'ratio':>6}")
    for name, (ffwd, fboth) in facet.items():
        tfwd, tboth = ref.get(name, (float("nan"), float("nan")))
        print(f"{name:20} {ffwd:10.2f} {tfwd:10.2f} {tfwd / ffwd:6.2f}   {fboth:10.2f} {tboth:10.2f} {tboth / fboth:6.2f}")
    print("ratio = PyTorch time / facet time (above 1: facet is faster)")


if __name__ == "__main__":
    main()
