#!/usr/bin/env python3
"""PyTorch reference for examples/fashion_mnist/train: the same backbones, loss heads and recipe,
written in plain PyTorch (no torchvision), so facet's accuracy can be compared with PyTorch's.

What it mirrors (see examples/reference/README.md for each point and where facet defines it):
  models   lenetpp | cnn | resnet with the layer sizes of examples/fashion_mnist/models.cpp and
           PyTorch's default initializers (as facet's Conv2d / Linear / BatchNorm / PReLU use)
  heads    softmax | center | cosface | arcface | sphereface | combined | subcenter with the
           constants of examples/fashion_mnist/heads.cpp and the target-logit formulas of
           core/margin_math.h (--margin replaces the margins as train's does); margin-head weights
           xavier_uniform
  recipe   SGD(lr, momentum 0.9, weight_decay 5e-4, nesterov) over every parameter; per-iteration
           CosineWarmupLR (warm-up min(batches, epochs*batches/4), lr 0 at the first step);
           shuffle + drop_last; crop+flip for cnn/resnet; normalize (x - 0.2860) / 0.3530;
           --erase P: random erasing after normalization (data::random_erasing's ranges);
           test in eval mode, batch 1000
  output   one line per epoch like train's, and OUT/metrics.csv with train's columns
Shuffling, augmentation draws and initial weights come from PyTorch's generators, so the runs
differ from facet's sample by sample; only the distributions match.

  /usr/bin/python3 examples/reference/train_torch.py --model cnn --head arcface --out runs/torch-arcface
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = ("lenetpp", "cnn", "resnet")
HEADS = ("softmax", "center", "cosface", "arcface", "sphereface", "combined", "subcenter")
MEAN, STD = 0.2860, 0.3530
SINE_FLOOR = 1e-4  # core/margin_math.h's kSineFloor (see arcface_target)


# ---------------------------------------------------------------- data

def read_idx(path):
    """An IDX file (gzipped or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise SystemExit(f"train_torch: {path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise SystemExit(f"train_torch: {path}: {data.size} values for dims {dims}")
    return data.reshape(dims)


def find_file(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise SystemExit(f"train_torch: no {stem}(.gz) in {folder}")


def load_split(folder, split, limit):
    """(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]); the first `limit` when limit > 0."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(find_file(folder, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find_file(folder, f"{prefix}-labels-idx1-ubyte"))
    if 0 < limit < len(images):
        images, labels = images[:limit], labels[:limit]
    # byte / 255 in float32, correctly rounded, as facet's load_mnist
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def normalize(x):
    return (x - MEAN) / STD


def augment_batch(x, gen):
    """data::random_crop(28, 28, 2) then random_horizontal_flip(0.5), per sample: zero-pad by 2
    (before normalization), crop at an offset uniform over the 5 x 5 positions, flip when u < 0.5."""
    b, c, h, w = x.shape
    pad = 2
    padded = F.pad(x, (pad, pad, pad, pad))
    top = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    left = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    rows = (top[:, None] + torch.arange(h))[:, None, :, None]  # [B, 1, H, 1]
    cols = (left[:, None] + torch.arange(w))[:, None, None, :]  # [B, 1, 1, W]
    out = padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    flip = torch.rand(b, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def erase_batch(x, p, gen, tries=10, scale=(0.02, 0.33), ratio=(0.3, 3.3)):
    """data::random_erasing(p) per sample, after normalization: with probability p, the first of
    `tries` rectangles (area uniform in scale x H x W, log aspect uniform in log ratio, sides rounded
    half away from zero) that fits strictly inside the image is set to 0 at a uniform position."""
    b, _, h, w = x.shape
    chosen = torch.rand(b, generator=gen) < p
    area = h * w * (scale[0] + (scale[1] - scale[0]) * torch.rand(b, tries, generator=gen, dtype=torch.float64))
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(b, tries, generator=gen, dtype=torch.float64))
    eh = torch.floor(torch.sqrt(area * aspect) + 0.5).long()
    ew = torch.floor(torch.sqrt(area / aspect) + 0.5).long()
    fits = (eh >= 1) & (ew >= 1) & (eh < h) & (ew < w)
    first = fits.long().argmax(1)  # the first try that fits (0 when none does; masked below)
    pick = lambda t: t.gather(1, first[:, None])[:, 0]
    eh, ew = pick(eh), pick(ew)
    top = torch.floor(torch.rand(b, generator=gen, dtype=torch.float64) * (h - eh + 1)).long()
    left = torch.floor(torch.rand(b, generator=gen, dtype=torch.float64) * (w - ew + 1)).long()
    rows, cols = torch.arange(h)[None, :], torch.arange(w)[None, :]
    inside_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])  # [B, H]
    inside_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])  # [B, W]
    mask = inside_rows[:, :, None] & inside_cols[:, None, :] & (chosen & fits.any(1))[:, None, None]
    return x.masked_fill(mask[:, None], 0.0)


# ---------------------------------------------------------------- backbones (models.cpp)

class LeNetPP(nn.Module):
    def __init__(self, feat_dim):
        super().__init__()

        def conv(i, o):  # He initialization for PReLU's starting slope, as models.cpp's LeNetPP
            c = nn.Conv2d(i, o, 5, padding=2)
            nn.init.kaiming_normal_(c.weight, a=0.25, nonlinearity="leaky_relu")
            nn.init.zeros_(c.bias)
            return c

        self.body = nn.Sequential(conv(1, 32), nn.PReLU(32), conv(32, 32), nn.PReLU(32), nn.MaxPool2d(2),
                                  conv(32, 64), nn.PReLU(64), conv(64, 64), nn.PReLU(64), nn.MaxPool2d(2),
                                  conv(64, 128), nn.PReLU(128), conv(128, 128), nn.PReLU(128), nn.MaxPool2d(2))
        self.embed = nn.Linear(128 * 3 * 3, feat_dim)

    def forward(self, x):
        return self.embed(self.body(x).flatten(1))


class SmallCnn(nn.Module):
    def __init__(self, feat_dim):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.PReLU(o))

        self.body = nn.Sequential(block(1, 32), block(32, 32), nn.MaxPool2d(2), block(32, 64), block(64, 64),
                                  nn.MaxPool2d(2))
        self.embed = nn.Linear(64 * 7 * 7, feat_dim)
        self.bn = nn.BatchNorm1d(feat_dim)

    def forward(self, x):
        return self.bn(self.embed(self.body(x).flatten(1)))


class BasicBlock(nn.Module):
    """layers/basic_block.cpp: conv3x3(stride)-bn-relu-conv3x3-bn + (1x1 conv-bn downsample when the
    shape changes), then relu."""

    def __init__(self, i, o, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(o)
        self.downsample = None
        if stride != 1 or i != o:
            self.downsample = nn.Sequential(nn.Conv2d(i, o, 1, stride=stride, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class GlobalAvgPool2d(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True)


RESNET_WIDTH = 32  # models.h's kResNetWidth


class SmallResNet(nn.Module):
    def __init__(self, feat_dim, w=RESNET_WIDTH):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                  BasicBlock(w, w), BasicBlock(w, w), BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 2 * w),
                                  BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w), GlobalAvgPool2d())
        self.embed = nn.Linear(4 * w, feat_dim)
        self.bn = nn.BatchNorm1d(feat_dim)

    def forward(self, x):
        return self.bn(self.embed(self.body(x).flatten(1)))


def make_backbone(name, feat_dim, width=0):
    if name == "resnet":
        return SmallResNet(feat_dim, width or RESNET_WIDTH)
    return {"lenetpp": LeNetPP, "cnn": SmallCnn}[name](feat_dim)


# ---------------------------------------------------------------- margin math (core/margin_math.h)
# Each function maps the cosines at the samples' own classes (float64 [B]) to the target logit
# before the scale s. They are written with autograd; where the exact derivative is infinite
# (|cos θ| = 1), a clamp gives 0 there instead of facet's floored slope: only cos exactly ±1 (or
# float rounding past it) is affected.

def arcface_target(c, m, easy_margin):
    """cos(θ + m) = cos·cos m − sin θ·sin m on the unclamped cos; easy_margin keeps cos where cos <= 0,
    otherwise the reference's fallback cos − sin(π − m)·m where cos <= th = cos(π − m)."""
    cos_m, sin_m = math.cos(m), math.sin(m)
    th, mm = math.cos(math.pi - m), math.sin(math.pi - m) * m
    sine = torch.sqrt((1.0 - c * c).clamp(min=SINE_FLOOR ** 2, max=1.0))
    phi = c * cos_m - sine * sin_m
    if easy_margin:
        return torch.where(c > 0, phi, c)
    return torch.where(c > th, phi, c - mm)


def combined_target(c, m1, m2, m3):
    """cos(m1 θ + m2) − m3 while m1 θ + m2 <= π; beyond, facet's continuation: a line of slope 1 in
    cos θ from −1 − m3 at θ* = (π − m2) / m1."""
    eps = 1e-12
    theta = torch.acos(c.clamp(-1.0 + eps, 1.0 - eps))
    angle = m1 * theta + m2
    main = torch.cos(angle) - m3
    theta_star = (math.pi - m2) / m1
    beyond = -1.0 - m3 + (c - math.cos(theta_star))
    return torch.where(angle > math.pi, beyond, main)


def chebyshev_t(c, m):
    t_prev, t = torch.ones_like(c), c
    for _ in range(1, m):
        t_prev, t = t, 2.0 * c * t - t_prev
    return t


def sphere_target(c, m, lam):
    """c already clamped to [−1, 1]: psi = (−1)^k T_m(c) − 2k with k = floor(m θ / π) from the
    detached angle; target c + (psi − c) / (1 + lambda)."""
    k = torch.floor(m * torch.acos(c.detach()) / math.pi)
    sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
    psi = sign * chebyshev_t(c, m) - 2.0 * k
    return c + (psi - c) / (1.0 + lam)


def with_target(cos, labels, target_fn, scale=1.0):
    """s · cos with the labels' entries replaced by target_fn(cos at the label) (the one-hot form of
    the reference code); the target is computed in float64 as facet does."""
    one_hot = F.one_hot(labels, cos.size(1)).to(torch.bool)
    target = target_fn(cos.gather(1, labels[:, None]).squeeze(1).double()).to(cos.dtype)
    return scale * torch.where(one_hot, target[:, None].expand_as(cos), cos)


# ---------------------------------------------------------------- heads (heads.cpp)

class SoftmaxHead(nn.Module):
    angular = False

    def __init__(self, feat_dim, classes):
        super().__init__()
        self.fc = nn.Linear(feat_dim, classes)

    def loss(self, f, y):
        return F.cross_entropy(self.fc(f), y)

    def scores(self, f):
        return self.fc(f)

    def after_step(self, f, y):
        pass


class CenterHead(SoftmaxHead):
    """Linear + CE plus lambda · ½ Σ|x − c_y|² / B (losses/center_loss.h); the centers are a buffer
    (xavier_uniform, as facet), no gradient, moved by the paper's rule after each optimizer step:
    Δc_j = Σ_{y_i = j} (c_j − x_i) / (1 + n_j), c_j ← c_j − alpha · Δc_j."""

    def __init__(self, feat_dim, classes, lam=0.1, alpha=0.5):
        super().__init__(feat_dim, classes)
        self.lam, self.alpha = lam, alpha
        centers = torch.empty(classes, feat_dim)
        nn.init.xavier_uniform_(centers)
        self.register_buffer("centers", centers)

    def loss(self, f, y):
        diff = f - self.centers[y]
        return F.cross_entropy(self.fc(f), y) + self.lam * 0.5 * (diff * diff).sum() / max(f.size(0), 1)

    @torch.no_grad()
    def after_step(self, f, y):
        f = f.detach().to(self.centers.dtype)
        offsets = self.centers[y] - f
        sums = torch.zeros_like(self.centers).index_add_(0, y, offsets)
        counts = torch.zeros(self.centers.size(0), dtype=self.centers.dtype, device=f.device)
        counts.index_add_(0, y, torch.ones(f.size(0), dtype=self.centers.dtype, device=f.device))
        self.centers -= self.alpha * sums / (counts + 1.0)[:, None]


class MarginHead(nn.Module):
    """W [classes · k, feat_dim] (xavier_uniform); cos θ = normalize(x) · normalize(W)ᵀ, the max over
    each class's k sub-centers (rows c·k .. c·k + k − 1) when k > 1; loss = CE(s · margin logits);
    predictions the argmax of cos θ."""
    angular = True

    def __init__(self, feat_dim, classes, scale, target_fn, k=1):
        super().__init__()
        self.classes, self.k, self.scale, self.target_fn = classes, k, scale, target_fn
        self.weight = nn.Parameter(torch.empty(classes * k, feat_dim))
        nn.init.xavier_uniform_(self.weight)

    def cosine(self, f):
        cos = F.linear(F.normalize(f, dim=1), F.normalize(self.weight, dim=1))
        if self.k > 1:
            cos = cos.reshape(f.size(0), self.classes, self.k).max(dim=2).values
        return cos

    def loss(self, f, y):
        return F.cross_entropy(with_target(self.cosine(f), y, self.target_fn, self.scale), y)

    def scores(self, f):
        return self.cosine(f)

    def after_step(self, f, y):
        pass


class SphereHead(nn.Module):
    """losses/sphere_product.h: cos clamped to [−1, 1], the SphereFace target at the label with
    lambda = max(5, 1000 · (1 + 0.12 · iter)^−1), iter counting training forwards (the first is 1),
    every logit times |x|."""
    angular = True

    def __init__(self, feat_dim, classes, m=4):
        super().__init__()
        self.m = m
        self.base, self.gamma, self.power, self.lambda_min = 1000.0, 0.12, 1.0, 5.0
        self.weight = nn.Parameter(torch.empty(classes, feat_dim))
        nn.init.xavier_uniform_(self.weight)
        self.register_buffer("iteration", torch.zeros(1, dtype=torch.int64))

    def forward(self, f, y):
        it = float(self.iteration.item()) + 1.0
        lam = max(self.lambda_min, self.base * (1.0 + self.gamma * it) ** -self.power)
        if self.training:
            self.iteration += 1
        cos = F.linear(F.normalize(f, dim=1), F.normalize(self.weight, dim=1)).clamp(-1.0, 1.0)
        norm = (f * F.normalize(f, dim=1)).sum(1, keepdim=True)  # |x|, with gradient 0 at x = 0
        return with_target(cos, y, lambda c: sphere_target(c, self.m, lam)) * norm

    def loss(self, f, y):
        return F.cross_entropy(self(f, y), y)

    def scores(self, f):
        return F.linear(F.normalize(f, dim=1), F.normalize(self.weight, dim=1))

    def after_step(self, f, y):
        pass


DEFAULT_MARGINS = {"softmax": [], "center": [], "cosface": [0.40], "arcface": [0.50], "sphereface": [4],
                   "combined": [1.0, 0.3, 0.2], "subcenter": [0.50]}


def head_margins(name, text):
    """The head's own margins, or train's --margin numbers (comma-separated) in their place."""
    if not text:
        return DEFAULT_MARGINS[name]
    try:
        given = [float(v) for v in text.split(",")]
    except ValueError:
        raise SystemExit(f"train_torch: --margin wants numbers separated by commas, got {text!r}")
    if len(given) != len(DEFAULT_MARGINS[name]):
        raise SystemExit(f"train_torch: --margin wants {len(DEFAULT_MARGINS[name])} numbers for {name}, got {text!r}")
    return given


def make_head(name, feat_dim, classes=10, margin=""):
    if name not in HEADS:
        raise SystemExit(f"train_torch: --head wants one of {', '.join(HEADS)}, got {name!r}")
    m = head_margins(name, margin)
    if name == "softmax":
        return SoftmaxHead(feat_dim, classes)
    if name == "center":
        return CenterHead(feat_dim, classes, lam=0.1, alpha=0.5)
    if name == "cosface":
        return MarginHead(feat_dim, classes, 30.0, lambda c: c - m[0])
    if name == "arcface":
        return MarginHead(feat_dim, classes, 30.0, lambda c: arcface_target(c, m[0], False))
    if name == "sphereface":
        return SphereHead(feat_dim, classes, int(m[0]))
    if name == "combined":
        return MarginHead(feat_dim, classes, 30.0, lambda c: combined_target(c, m[0], m[1], m[2]))
    return MarginHead(feat_dim, classes, 30.0, lambda c: arcface_target(c, m[0], False), k=3)


class TrainModel(nn.Module):
    def __init__(self, model, head, feat_dim, margin="", width=0):
        super().__init__()
        self.backbone = make_backbone(model, feat_dim, width)
        self.head = make_head(head, feat_dim, margin=margin)


def train_step(model, opt, x, y):
    """run.cpp's train_step: forward, the head's loss, zero_grad, backward, step, the head's
    after-step update; returns the features and the loss."""
    features = model.backbone(x)
    loss = model.head.loss(features, y)
    opt.zero_grad(set_to_none=True)  # as facet's zero_grad (and PyTorch 2's default): no zero fills
    loss.backward()
    opt.step()
    model.head.after_step(features, y)
    return features, loss


# ---------------------------------------------------------------- schedule (optim/lr_scheduler.cpp)

def cosine_warmup_factor(warmup, total):
    """CosineWarmupLR(opt, W, T) with eta_min 0 and start factor 0, as a LambdaLR factor: t < W:
    t / W; else (1 + cos(π · min(t − W, T − W) / (T − W))) / 2. LambdaLR applies t = 0 at
    construction (lr 0 for the first step) and t + 1 after each step(), as facet's scheduler."""
    def factor(t):
        if t < warmup:
            return t / warmup
        return (1.0 + math.cos(math.pi * min(t - warmup, total - warmup) / (total - warmup))) / 2.0
    return factor


# ---------------------------------------------------------------- training (train.cpp)

def clock_text(seconds):
    s = int(seconds + 0.5)
    return f"{s // 60}:{s % 60:02d}"


@torch.no_grad()
def evaluate(model, x, y, device, flip=False):
    """Test accuracy in eval mode, and with flip in the same pass the flip test's (None without):
    the scores of the mean of the features of each image and of its mirror image (as train)."""
    was_training = model.training
    model.eval()
    correct, flip_correct = 0, 0
    for i in range(0, len(x), 1000):
        xb = normalize(x[i:i + 1000]).to(device)
        yb = y[i:i + 1000].to(device)
        f = model.backbone(xb)
        correct += int((model.head.scores(f).argmax(1) == yb).sum())
        if flip:
            mean = (f + model.backbone(xb.flip(-1))) / 2
            flip_correct += int((model.head.scores(mean).argmax(1) == yb).sum())
    model.train(was_training)
    return correct / len(x), (flip_correct / len(x) if flip else None)


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch reference of examples/fashion_mnist/train (same models, "
                                            "heads and recipe).")
    p.add_argument("--model", default="cnn", choices=MODELS)
    p.add_argument("--head", default="softmax", choices=HEADS)
    p.add_argument("--width", type=int, default=0, help="the ResNet's channels W, 2W, 4W (0: 32)")
    p.add_argument("--feat-dim", type=int, default=128)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--margin", default="", help="train's --margin: the head's margins, comma-separated")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    p.add_argument("--augment", type=int, default=-1, choices=(-1, 0, 1),
                   help="crop+flip; -1: on for cnn and resnet, off for lenetpp")
    p.add_argument("--erase", type=float, default=0.0,
                   help="random erasing's probability after normalization (0: off, no draws)")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", default=None, help="folder for metrics.csv (facet's columns); none: no file")
    a = p.parse_args(argv)
    if a.epochs < 1 or a.batch < 1 or a.lr <= 0 or a.limit < 0 or a.feat_dim < 1:
        p.error("--epochs, --batch, --lr and --feat-dim must be positive, --limit not negative")
    if not 0 <= a.erase <= 1:
        p.error("--erase is a probability in [0, 1]")
    if a.width < 0 or (a.width > 0 and a.model != "resnet"):
        p.error("--width is positive and applies to --model resnet only")
    return a


def main(argv):
    o = parse_args(argv)
    if o.threads > 0:
        torch.set_num_threads(o.threads)
    if o.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(o.device)
    torch.manual_seed(o.seed)
    gen = torch.Generator().manual_seed(o.seed)  # shuffling and augmentation

    train_x, train_y = load_split(o.data, "train", o.limit)
    test_x, test_y = load_split(o.data, "test", 0)
    augment = o.model != "lenetpp" if o.augment == -1 else o.augment == 1
    n = len(train_x)
    batches = n // o.batch  # drop_last
    if batches == 0:
        raise SystemExit(f"train_torch: at least one full batch of {o.batch} images wanted, got {n} training images")

    model = TrainModel(o.model, o.head, o.feat_dim, o.margin, o.width).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=o.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    total = o.epochs * batches
    warmup = min(batches, total // 4)
    if not (0 <= warmup < total):
        raise SystemExit(f"train_torch: the schedule wants 0 <= warm-up < total iterations, got {warmup} and {total}")
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, cosine_warmup_factor(warmup, total))

    width = f" (width {o.width})" if o.width not in (0, RESNET_WIDTH) else ""
    print(f"torch {o.out or '-'}: {o.model}{width} + {o.head}, {o.feat_dim}-d features, {n} training images, "
          f"batch {o.batch}, lr {o.lr:g}, {device}, torch {torch.__version__}, {torch.get_num_threads()} threads"
          f"{', crop+flip' if augment else ''}{f', erase {o.erase:g}' if o.erase > 0 else ''}", flush=True)
    if o.out:
        os.makedirs(o.out, exist_ok=True)

    rows = []
    model.train()
    for epoch in range(o.epochs):
        model.train()
        start = time.monotonic()
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct, seen, done = 0.0, 0, 0, 0
        for b in range(batches):
            idx = perm[b * o.batch:(b + 1) * o.batch]
            x = train_x[idx]
            if augment:
                x = augment_batch(x, gen)
            x = normalize(x)
            if o.erase > 0:  # drawn only when on, so runs without it keep their streams
                x = erase_batch(x, o.erase, gen)
            x, y = x.to(device), train_y[idx].to(device)
            features, loss = train_step(model, opt, x, y)
            schedule.step()
            with torch.no_grad():  # as train: the head's scores after the step, of this step's features
                correct += int((model.head.scores(features.detach()).argmax(1) == y).sum())
            loss_sum += loss.item()
            seen += x.size(0)
            done += 1
        test_acc, flip_acc = evaluate(model, test_x, test_y, device, flip=epoch + 1 == o.epochs)
        seconds = time.monotonic() - start  # as train: the epoch and its evaluation
        rows.append(f"{epoch + 1},{loss_sum / done:.6f},{correct / seen:.6f},{test_acc:.6f},{seconds:.1f}")
        print(f"epoch {epoch + 1}/{o.epochs}  loss {loss_sum / done:.4f}  train acc {100.0 * correct / seen:.2f}%  "
              f"test acc {100 * test_acc:.2f}%  {seen / seconds:.0f} img/s  {clock_text(seconds)}", flush=True)
        if o.out:
            write_text(os.path.join(o.out, "metrics.csv"), "epoch,loss,train_acc,test_acc,seconds\n" +
                       "".join(r + "\n" for r in rows))
    print(f"test accuracy {100 * test_acc:.2f}% (flip test {100 * flip_acc:.2f}%)")
    if o.out:
        print(f"metrics: {os.path.join(o.out, 'metrics.csv')}")


if __name__ == "__main__":
    main(sys.argv[1:])
