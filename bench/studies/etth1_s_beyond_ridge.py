"""ETTh1 S (OT only), horizon 96, lookback 264: does anything beyond the last-value ridge forecaster (the trainer's
closed-form start, test MSE 0.0524) reach the issue's 0.052 in a way the validation split would choose? Each row
changes one thing and prints validation and test MSE (ETT protocol of ../shared/docs/benchmarks.md: 12/4/4 months,
z-scored with the training split's statistics, every window):

- recency weights on the training windows (exp((t − t_last)/τ)): the series drifts, so recent windows might teach more;
- Huber-weighted least squares (per-window weights from the mean absolute residual, 8 reweighting rounds);
- a smoothness prior on the lag weights (second differences) instead of the plain ridge;
- extra sparse lags: the same hour of earlier days or weeks beyond the lookback;
- a seasonal profile removed before the fit (daily, weekly);
- a nonlinear residual model: ridge on random tanh features of the last k centred lags (with and without the level);
- the final fit on training + validation (the "refit" some pipelines do after choosing hyperparameters).

    python3 bench/studies/etth1_s_beyond_ridge.py [path/to/ETTh1.csv]
"""
import sys

import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else '../shared/datasets/ett/ETTh1.csv'
data = np.genfromtxt(path, delimiter=',', skip_header=1)[:, 1:]
borders = [0, 12 * 30 * 24, 16 * 30 * 24, 20 * 30 * 24]
raw = ((data - data[:borders[1]].mean(0)) / data[:borders[1]].std(0))[:, 6]   # OT
H, L, RIDGE = 96, 264, 0.1


def windows(lo, hi, series=raw, extra=()):
    """Centred lags (plus centred sparse lags), the last value and the targets of every window in [lo, hi)."""
    reach = max([L] + [e + 1 for e in extra])
    starts = np.arange(max(lo - L, reach - L), hi - L - H + 1)
    X = np.stack([series[t:t + L] for t in starts])
    last = X[:, -1:]
    E = np.stack([[series[t + L - 1 - e] for e in extra] for t in starts]) if extra else np.zeros((len(starts), 0))
    Z = np.hstack([X - last, E - last, np.ones((len(starts), 1))])
    return Z, last, np.stack([raw[t + L:t + L + H] for t in starts]), starts


def solve(Z, T, weights=None, penalty=None):
    w = np.ones(len(Z)) if weights is None else weights
    A = (Z * w[:, None]).T @ Z
    p = Z.shape[1] - 1   # the intercept is not penalised
    A[:p, :p] += RIDGE * w.sum() * (np.eye(p) if penalty is None else penalty)
    return np.linalg.solve(A, (Z * w[:, None]).T @ T)


def score(predict):
    out = []
    for lo, hi in [(borders[1], borders[2]), (borders[2], borders[3])]:
        out.append(((predict(lo, hi) - windows(lo, hi)[2]) ** 2).mean())
    return out


def report(name, predict):
    v, t = score(predict)
    print(f'{name:58s} validation {v:.4f} test {t:.4f}', flush=True)


def linear(extra=(), series=raw, offset=None, weights=None, penalty=None, hi=borders[1]):
    Z, last, Y, starts = windows(0, hi, series, extra)
    target = Y - last - (0 if offset is None else offset(starts))
    W = solve(Z, target, weights(starts) if weights else None, penalty)

    def predict(lo, hi2):
        Zs, ls, _, st = windows(lo, hi2, series, extra)
        return Zs @ W + ls + (0 if offset is None else offset(st))
    return predict, W


base, W0 = linear()
report('last-value ridge (the closed-form start)', base)
for tau in [4000, 16000]:
    report(f'recency weights, tau {tau} h', linear(weights=lambda s, tau=tau: np.exp((s - s.max()) / tau))[0])

Z, last, Y, _ = windows(0, borders[1])
for delta in [0.5, 1.0]:
    W = W0
    for _ in range(8):
        a = np.abs(Z @ W - (Y - last)).mean(1)
        W = solve(Z, Y - last, np.where(a <= delta, 1.0, delta / np.maximum(a, 1e-12)))
    report(f'Huber-weighted, delta {delta}', lambda lo, hi, W=W: windows(lo, hi)[0] @ W + windows(lo, hi)[1])

D2 = np.diff(np.eye(L), 2, axis=0)
for strength in [10, 1000]:
    penalty = np.eye(L) * 1e-3 + strength * 1e-3 * D2.T @ D2
    report(f'smoothness prior on the lags, strength {strength}', linear(penalty=penalty)[0])

report('+ same hour of days 12-14 before', linear(extra=[24 * k - 1 for k in range(12, 15)])[0])
report('+ same hour of weeks 2-4 before', linear(extra=[168 * k - 1 for k in range(2, 5)])[0])

for period in [24, 168]:
    phase = np.arange(len(raw)) % period
    profile = np.array([raw[:borders[1]][phase[:borders[1]] == p].mean() for p in range(period)])
    profile -= profile.mean()
    cycle = profile[phase]
    deseason = raw - cycle
    offset = (lambda s, c=cycle: np.stack([c[t + L:t + L + H] for t in s]))
    report(f'{"daily" if period == 24 else "weekly"} profile removed first', linear(series=deseason, offset=offset)[0])

rng = np.random.default_rng(0)
residual = Y - last - Z @ W0
for k, level in [(24, False), (48, False), (24, True)]:
    P = rng.normal(size=(k + level, 128)) / np.sqrt(k + level)
    bias = rng.normal(size=128)

    def features(lo, hi, P=P, bias=bias, k=k, level=level):
        Zs, ls, _, _ = windows(lo, hi)
        X = np.hstack([Zs[:, L - k:L], ls]) if level else Zs[:, L - k:L]
        return np.tanh(X @ P + bias)
    F = features(0, borders[1])
    V = np.linalg.solve(F.T @ F + 100 * np.eye(128), F.T @ residual)
    report(f'+ random tanh features of the last {k} lags{" and the level" if level else ""}',
           lambda lo, hi, V=V, features=features: base(lo, hi) + features(lo, hi) @ V)

report('fitted on training + validation', linear(hi=borders[2])[0])
