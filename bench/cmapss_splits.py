#!/usr/bin/env python3
"""Compares vigil train's evaluation splits on C-MAPSS development runs (bench/cmapss.sh -d).

The final models of "machine" and "machine_kfold" runs of a fold are the same (both refit
on all training engines with the same parameters: the split only decides the threshold),
so their F1 differs by the threshold alone. For each run (fold, split, model.seed) it
prints the threshold vigil chose, F1 on the 100 development cuts (13-14 failing rows: one
row moves F1 by 0.03-0.04) and F1 on all cuts of the 25 held-out engines (~3,500 rows,
650 failing); then, per split, both pooled over the runs, their spread, and the paired
comparison of all-cuts F1 by fold and seed.

usage: cmapss_splits.py RESULT_FILE...   (bench/results/cmapss-dev<FOLD>-*.txt)
"""
import collections
import re
import statistics
import sys

ROW = r"^vigil \(its threshold\)\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)\s+(\d+)\s+(\d+)\s+(\d+)"


def f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


runs = []
for path in sys.argv[1:]:
    text = open(path).read()
    head = text.splitlines()[0]
    split = re.search(r" -k (\S+)", head).group(1)
    seed = re.search(r'-m "[^"]*seed = (\d+)', head)
    fold = int(re.search(r" -d (\d)", head).group(1))
    thr = float(re.search(r"threshold chosen by vigil on held-out training engines: ([0-9.]+)", text).group(1))
    cuts, every = re.findall(ROW, text, re.M)[:2]
    runs.append({"file": path.rsplit("/", 1)[-1], "fold": fold, "split": split, "seed": int(seed.group(1)) if seed else 1,
                 "thr": thr, "f1_100": float(cuts[0]), "c100": tuple(map(int, cuts[1:])),
                 "f1_all": float(every[0]), "call": tuple(map(int, every[1:]))})
runs.sort(key=lambda r: (r["fold"], r["split"], r["seed"]))
print(f"{'fold':>4} {'split':14} {'seed':>4} {'threshold':>9} {'F1 100 cuts':>11} {'TP/FP/FN':>9} {'F1 all cuts':>11} "
      f"{'TP/FP/FN':>12}  file")
for r in runs:
    print(f"{r['fold']:4d} {r['split']:14} {r['seed']:4d} {r['thr']:9.3f} {r['f1_100']:11.3f} {'/'.join(map(str, r['c100'])):>9} "
          f"{r['f1_all']:11.3f} {'/'.join(map(str, r['call'])):>12}  {r['file']}")
print()
for split in sorted({r["split"] for r in runs}):
    sel = [r for r in runs if r["split"] == split]
    c = [sum(r["c100"][i] for r in sel) for i in range(3)]
    a = [sum(r["call"][i] for r in sel) for i in range(3)]
    thr = [r["thr"] for r in sel]
    print(f"{split}: {len(sel)} runs")
    print(f"  100 cuts: pooled F1 {f1(*c):.4f} (TP {c[0]} FP {c[1]} FN {c[2]}); per run mean {statistics.mean(r['f1_100'] for r in sel):.3f}, "
          f"min {min(r['f1_100'] for r in sel):.3f}, max {max(r['f1_100'] for r in sel):.3f}")
    print(f"  all cuts: pooled F1 {f1(*a):.4f} (TP {a[0]} FP {a[1]} FN {a[2]}); per run mean {statistics.mean(r['f1_all'] for r in sel):.3f}, "
          f"min {min(r['f1_all'] for r in sel):.3f}, max {max(r['f1_all'] for r in sel):.3f}")
    print(f"  threshold: {min(thr):.3f} to {max(thr):.3f}, sd {statistics.pstdev(thr):.3f}")
pairs = collections.defaultdict(dict)
for r in runs:
    pairs[(r["fold"], r["seed"])][r["split"]] = r["f1_all"]
splits = sorted({r["split"] for r in runs})
if len(splits) == 2:
    a, b = splits
    both = [p for p in pairs.values() if len(p) == 2]
    print(f"all-cuts F1 of {b} against {a}, paired by fold and seed ({len(both)} pairs): "
          f"higher {sum(p[b] > p[a] for p in both)}, lower {sum(p[b] < p[a] for p in both)}, "
          f"equal {sum(p[b] == p[a] for p in both)}")
