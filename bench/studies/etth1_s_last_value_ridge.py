"""ETTh1 S (OT only), horizon 96: closed-form ridge forecasters with the window's last value subtracted
(NLinear's normalisation: no per-window scaling, no cycle), over lookbacks and ridge strengths, chosen on the
validation split; plus equal-weight ensembles of distinct lookbacks, and the intercept scaled by the window's σ
(what a bias in the trainer's normalised units amounts to) against one in the series' units. The ETT protocol of ../shared/docs/benchmarks.md:
12/4/4 months, z-scored with the training split's statistics, MSE over every test window.

    python3 bench/studies/etth1_s_last_value_ridge.py [path/to/ETTh1.csv]
"""
import itertools
import sys

import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else '../shared/datasets/ett/ETTh1.csv'
data = np.genfromtxt(path, delimiter=',', skip_header=1)[:, 1:]
borders = [0, 12 * 30 * 24, 16 * 30 * 24, 20 * 30 * 24]
train = data[:borders[1]]
series = ((data - train.mean(0)) / train.std(0))[:, 6]   # OT
H = 96


def windows(L, lo, hi):
    starts = np.arange(max(lo - L, 0), hi - L - H + 1)
    return (np.stack([series[t:t + L] for t in starts]), np.stack([series[t + L:t + L + H] for t in starts]))


def intercept(X, scaled):
    # the intercept's design column: 1 (an offset in the series' units), or the window's σ (the head's bias, which
    # the trainer's normalised units scale with the causal normaliser's σ_t)
    return X.std(1, keepdims=True) + 1e-3 if scaled else np.ones((len(X), 1))


def fit(L, lam, scaled=False):
    X, Y = windows(L, borders[0], borders[1])
    last = X[:, -1:]
    Z = np.hstack([X - last, intercept(X, scaled)])
    A = Z.T @ Z
    A[np.diag_indices(L)] += lam * len(X)
    W = np.linalg.solve(A, Z.T @ (Y - last))

    def predict(lo, hi):
        Xs, Ys = windows(L, lo, hi)
        ls = Xs[:, -1:]
        return np.hstack([Xs - ls, intercept(Xs, scaled)]) @ W + ls, Ys
    return predict


preds = {}
for L in [96, 192, 240, 264, 288, 312, 336, 384, 512]:
    for lam in [0.1, 0.3, 1.0]:
        predict = fit(L, lam)
        pv, yv = predict(borders[1], borders[2])
        pt, yt = predict(borders[2], borders[3])
        preds[(L, lam)] = (pv, pt)
        print(f'L {L:4d} ridge {lam:<4} validation {((pv - yv) ** 2).mean():.4f} test {((pt - yt) ** 2).mean():.4f}',
              flush=True)
best = min(preds, key=lambda k: ((preds[k][0] - yv) ** 2).mean())
print(f'chosen on validation: L {best[0]} ridge {best[1]}: test {((preds[best][1] - yt) ** 2).mean():.4f}')
pool = [k for k in preds if 240 <= k[0] <= 336]
rows = []
for size in [2, 3, 4]:
    for combo in itertools.combinations(pool, size):
        if len({k[0] for k in combo}) < size:
            continue
        pv = np.mean([preds[k][0] for k in combo], 0)
        pt = np.mean([preds[k][1] for k in combo], 0)
        rows.append((((pv - yv) ** 2).mean(), ((pt - yt) ** 2).mean(), combo))
rows.sort()
v, t, combo = rows[0]
print(f'ensemble chosen on validation: {combo}: validation {v:.4f} test {t:.4f}')
for L in [264, 288]:
    for scaled in [False, True]:
        pv, yv2 = fit(L, 1e-4, scaled)(borders[1], borders[2])
        pt, yt2 = fit(L, 1e-4, scaled)(borders[2], borders[3])
        print(f'L {L} ridge 1e-4, intercept {"× window σ" if scaled else "in series units"}: '
              f'validation {((pv - yv2) ** 2).mean():.4f} test {((pt - yt2) ** 2).mean():.4f}')
