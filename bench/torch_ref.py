#!/usr/bin/env python3
"""PyTorch beside facet: the same convolution and batchnorm cases as bench/conv_layers.cpp, with
the same thread count, in one run. Usage: bench/torch_ref.py FACET_CONV_LAYERS_BINARY [BATCH]
Prints facet's and PyTorch's medians and the ratio torch / facet (above 1: facet is faster)."""
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


def median_ms(fn):
    fn()
    times = []
    for _ in range(5):
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


def main():
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
