#!/usr/bin/env python3
"""C-MAPSS FD001 development screening: train_FD001.txt only (the test files are not read).

Input: ROWS, `vigil export` of the 100 training engines processed with a superset of
features (bench/cmapss_dev.sh makes it), and train_FD001.txt (each engine fails at its last
cycle). For each candidate (a subset of the feature columns, xgboost parameters), grouped
4-fold cross-validation by engine ((unit - 1) % 4, the folds of bench/cmapss.sh -d), each
fold done as vigil train does it:
  - the 75 training engines split by machine (25% held out, seeded): a classifier on the
    rest, its F1-best threshold on all rows of the held-out engines (vigil's threshold_goal
    "f1"), then the final classifier on all 75 engines' rows (model.refit);
  - the RUL regression (reg:squarederror, label min(hours to failure, cap)) on the 75.
Scored on the 25 held-out engines at every cut the test set could have (each cycle whose
true RUL is in [5, min(150, life - 31)], the cuts bench/cmapss.sh -d draws from): F1 at
the chosen threshold ("fails within 30 cycles"), ROC AUC, RUL RMSE against the true RUL.
Python's xgboost stands in for vigil's (the same library and parameters) so that the
features need processing once; the candidates chosen here are then run through vigil
itself with bench/cmapss.sh -d.

usage: cmapss_dev.py ROWS TRAIN_FD001 CANDIDATE...   (names: see CANDIDATES)
"""
import re
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb

BASE = {"rounds": 200, "max_depth": 4, "eta": 0.1}


def cols_for(allcols, aggs, durs):
    out = []
    for c in allcols:
        m = re.match(r"^(s\d\d)_(mean|std|min|max|slope|count|last)_(\d+h)$", c)
        if m and m.group(2) in aggs and m.group(3) in durs:
            out.append(c)
    return out


# name -> (aggregates, durations, parameters)
D4 = ["5h", "10h", "20h", "30h"]
D6 = ["5h", "10h", "20h", "30h", "50h", "100h"]
A4 = ["mean", "std", "min", "max"]
A5 = A4 + ["slope"]
CANDIDATES = {
    "base": (A4, D4, {}),
    "slope": (A5, D4, {}),
    "long": (A4, D6, {}),
    "slope_long": (A5, D6, {}),
    "mean_slope_long": (["mean", "slope"], D6, {}),
    "mean_slope_long_lr": (["mean", "slope"], D6, {"rounds": 400, "eta": 0.05}),
    "slope_long_d3": (A5, D6, {"max_depth": 3}),
    "slope_long_d6": (A5, D6, {"max_depth": 6}),
    "slope_long_lr": (A5, D6, {"rounds": 400, "eta": 0.05}),
    "mean_slope_long_d3": (["mean", "slope"], D6, {"max_depth": 3}),
    "mean_slope_long_d3_lr": (["mean", "slope"], D6, {"max_depth": 3, "rounds": 400, "eta": 0.05}),
    "mean_std_slope_long": (["mean", "std", "slope"], D6, {}),
    "mean_slope_d4": (["mean", "slope"], D4, {}),
    "mean_slope_150": (["mean", "slope"], D6 + ["150h"], {}),
    "mean_slope_200": (["mean", "slope"], D6 + ["150h", "200h"], {}),
    "mean_slope_long_sub": (["mean", "slope"], D6, {"subsample": 0.8, "colsample_bytree": 0.5}),
    "mean_slope_long_mcw": (["mean", "slope"], D6, {"min_child_weight": 10}),
    "mean_slope_long_d6": (["mean", "slope"], D6, {"max_depth": 6}),
    "mean_slope_long_r400": (["mean", "slope"], D6, {"rounds": 400}),
    "mean_slope_long_50_100": (["mean", "slope"], ["5h", "10h", "30h", "50h", "100h"], {}),
    "slope_long_mcw": (A5, D6, {"min_child_weight": 10}),
    "slope_long_sub": (A5, D6, {"subsample": 0.8, "colsample_bytree": 0.5}),
}


def fit(x, y, p, objective, spw=None):
    params = {"objective": objective, "tree_method": "hist", "max_depth": p["max_depth"], "eta": p["eta"],
              "seed": 0, "nthread": 2, "base_score": 0.5}
    params.update({k: v for k, v in p.items() if k not in ("rounds", "max_depth", "eta")})
    if spw is not None:
        params["scale_pos_weight"] = spw
    b = xgb.train(params, xgb.DMatrix(x, label=y, missing=np.nan), num_boost_round=p["rounds"])
    if spw is not None:
        b.set_param("base_score", f"{1 / (1 + spw):.9g}")  # the class weight undone, as vigil does
    return b


def fit_clf(x, y, p):
    spw = float((y == 0).sum()) / float((y == 1).sum())
    return fit(x, y, p, "binary:logistic", spw)


def best_f1_threshold(s, y):
    o = np.argsort(-s, kind="stable")
    s, y = s[o], y[o]
    tp = np.cumsum(y)
    fp = np.cumsum(1 - y)
    last = np.r_[s[1:] != s[:-1], True]  # ends of tied groups
    P = y.sum()
    f1 = np.where(tp > 0, 2 * tp / (tp + fp + P), 0.0)
    f1[~last] = -1
    i = int(np.argmax(f1))
    return (s[i] + s[i + 1]) / 2 if i + 1 < len(s) else s[i]


def auc(y, s):
    r = pd.Series(s).rank().to_numpy()
    p = y == 1
    return (r[p].sum() - p.sum() * (p.sum() + 1) / 2) / (p.sum() * (~p).sum())


def main():
    rows_file, train_file, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows = pd.read_csv(rows_file)
    raw = np.loadtxt(train_file)
    life = pd.Series(raw[:, 1]).groupby(raw[:, 0].astype(int)).max()
    unit = rows["machine_id"].str[4:].astype(int).to_numpy()
    cycle = ((pd.to_datetime(rows["window_start"], utc=True) - pd.Timestamp("2025-01-01", tz="UTC"))
             .dt.total_seconds().to_numpy() / 3600).round().astype(int)
    rul = life.reindex(unit).to_numpy() - cycle  # cycles (= hours) to the failure at the last cycle
    y = rows["label_failure_7d"].to_numpy()
    assert not np.isnan(y).any()
    y = y.astype(int)
    hi = np.minimum(150, life.reindex(unit).to_numpy() - 31)
    cut = (rul >= 5) & (rul <= hi)
    fold = (unit - 1) % 4
    print(f"rows {len(rows)}, positive {y.sum()}, cut rows {cut.sum()} "
          f"(failing within 30 cycles {(cut & (rul <= 30)).sum()})", flush=True)
    print(f"{'candidate':24s} {'cols':>4s} {'AUC':>6s} {'F1':>6s} {'prec':>6s} {'rec':>6s} {'F1best':>6s} "
          f"{'RMSE':>6s} {'RMSEc':>6s}  per-fold F1 / RMSE", flush=True)
    for name in names:
        rng = np.random.default_rng(19)  # the same inner held-out engines for every candidate
        aggs, durs, extra = CANDIDATES[name]
        p = dict(BASE, **extra)
        cols = cols_for(rows.columns, aggs, durs)
        x = rows[cols].to_numpy(np.float32)
        t0 = time.time()
        score = np.full(len(rows), np.nan)
        rulp = np.full(len(rows), np.nan)
        thr = np.full(len(rows), np.nan)
        for k in range(4):
            tr = fold != k
            units = np.unique(unit[tr])
            held = rng.permutation(units)[: len(units) // 4]
            inner_te = tr & np.isin(unit, held)
            inner_tr = tr & ~inner_te
            b = fit_clf(x[inner_tr], y[inner_tr], p)
            t = best_f1_threshold(b.predict(xgb.DMatrix(x[inner_te], missing=np.nan)), y[inner_te])
            b = fit_clf(x[tr], y[tr], p)
            te = fold == k
            score[te] = b.predict(xgb.DMatrix(x[te], missing=np.nan))
            thr[te] = t
            r = fit(x[tr], np.minimum(rul[tr], 125).astype(np.float32), p, "reg:squarederror")
            rulp[te] = np.maximum(r.predict(xgb.DMatrix(x[te], missing=np.nan)), 0)
        truth = (rul <= 30).astype(int)
        per = []
        for k in list(range(4)) + [None]:
            m = cut & ((fold == k) if k is not None else True)
            f = score[m] >= thr[m]
            tp = int((f & (truth[m] == 1)).sum()); fp = int((f & (truth[m] == 0)).sum())
            fn = int((~f & (truth[m] == 1)).sum())
            pr = tp / (tp + fp) if tp + fp else 0; rc = tp / (tp + fn) if tp + fn else 0
            f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0
            rmse = float(np.sqrt(np.mean((rulp[m] - rul[m]) ** 2)))
            per.append((f1, pr, rc, rmse))
        m = cut
        fb = best_f1_threshold(score[m], truth[m])
        f = score[m] >= fb
        tp = (f & (truth[m] == 1)).sum()
        f1best = 2 * tp / (f.sum() + truth[m].sum())
        rmsec = float(np.sqrt(np.mean((rulp[m] - np.minimum(rul[m], 125)) ** 2)))
        f1, pr, rc, rmse = per[-1]
        print(f"{name:24s} {len(cols):4d} {auc(truth[m], score[m]):6.4f} {f1:6.3f} {pr:6.3f} {rc:6.3f} "
              f"{f1best:6.3f} {rmse:6.2f} {rmsec:6.2f}  "
              + " ".join(f"{a[0]:.3f}/{a[3]:.1f}" for a in per[:4]) + f"  ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
