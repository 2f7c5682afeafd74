#!/usr/bin/env python3
"""The numbers behind the 2-D feature pictures, from a run's features.tsv ("x y label" lines; the
cosine heads write their features normalized):
  cluster ratio  RMS distance of a feature to its class mean over RMS distance between class means
                 (scale-free; Center loss should shrink it)
  class spread   per class the circular spread of the feature directions, in degrees
  unclaimed      how much of the circle no class claims, each class claiming the arc that holds
                 the middle 90% of its directions (margins should open these gaps)
Usage: tools/feature_stats.py RUN_DIR...   (prints one markdown row per run)"""
import math
import sys


def points_by_class(path):
    by_class = {}
    with open(path) as f:
        for line in f:
            x, y, label = line.split()
            by_class.setdefault(int(label), []).append((float(x), float(y)))
    return by_class


def cluster_ratio(by_class):
    means = {c: (sum(x for x, _ in v) / len(v), sum(y for _, y in v) / len(v)) for c, v in by_class.items()}
    within = [(x - means[c][0]) ** 2 + (y - means[c][1]) ** 2 for c, v in by_class.items() for x, y in v]
    centers = list(means.values())
    between = [(a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 for i, a in enumerate(centers) for b in centers[i + 1:]]
    return math.sqrt(sum(within) / len(within)) / math.sqrt(sum(between) / len(between))


def wrap(a):
    """Into [-pi, pi)."""
    return (a + math.pi) % (2 * math.pi) - math.pi


def class_arc(angles):
    """(circular std in degrees, the arc [lo, hi] around the mean direction holding the middle 90%)."""
    c = sum(math.cos(a) for a in angles) / len(angles)
    s = sum(math.sin(a) for a in angles) / len(angles)
    r = min(math.hypot(c, s), 1.0)
    mean = math.atan2(s, c)
    spread = math.degrees(math.sqrt(-2 * math.log(r))) if r > 0 else float("inf")
    dev = sorted(wrap(a - mean) for a in angles)
    lo, hi = dev[int(0.05 * (len(dev) - 1))], dev[int(0.95 * (len(dev) - 1))]
    return spread, mean + lo, mean + hi


def unclaimed_degrees(arcs):
    """Degrees of the circle inside no arc (lo <= hi, in radians), on a 0.1-degree grid."""
    two_pi = 2 * math.pi
    free = 0
    for i in range(3600):
        t = math.radians(i / 10)
        if not any((t - lo) % two_pi <= hi - lo for lo, hi in arcs):
            free += 1
    return free / 10


def main():
    print("| run | cluster ratio | mean class spread (°) | widest class spread (°) | circle no class claims (°) |")
    print("|---|---|---|---|---|")
    for run in sys.argv[1:]:
        by_class = points_by_class(run + "/features.tsv")
        arcs, spreads = [], []
        for label, points in sorted(by_class.items()):
            spread, lo, hi = class_arc([math.atan2(y, x) for x, y in points])
            spreads.append(spread)
            arcs.append((lo, hi))
        print(f"| {run} | {cluster_ratio(by_class):.3f} | {sum(spreads) / len(spreads):.1f} | {max(spreads):.1f} | "
              f"{unclaimed_degrees(arcs):.1f} |")


if __name__ == "__main__":
    main()
