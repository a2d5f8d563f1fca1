"""Statistics of the benchmark (pure): percentiles and latency summaries, ratios, and the
seeded Zipf sampler of the mixed workload."""

from __future__ import annotations

import math
import random
from bisect import bisect_right


def percentile(sorted_samples, pct: float) -> float | None:
    """Percentile ``pct`` (0..100) of an ascending list, linear interpolation between the
    closest ranks (numpy's default ``linear`` method); None for an empty list."""
    n = len(sorted_samples)
    if n == 0:
        return None
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct!r}")
    pos = (n - 1) * pct / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * frac)


def rounded(value, nd=3):
    """``value`` as a float rounded to ``nd`` decimals; None stays None."""
    return None if value is None else round(float(value), nd)


def summarize(samples_ms) -> dict:
    """n, min/p50/p95/p99/max/mean (ms, 3 dp) of latency samples; Nones when empty."""
    s = sorted(float(x) for x in samples_ms)
    if not s:
        return dict.fromkeys(("min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"), None) | {"n": 0}
    return {
        "n": len(s),
        "min_ms": rounded(s[0]),
        "p50_ms": rounded(percentile(s, 50)),
        "p95_ms": rounded(percentile(s, 95)),
        "p99_ms": rounded(percentile(s, 99)),
        "max_ms": rounded(s[-1]),
        "mean_ms": rounded(math.fsum(s) / len(s)),
    }


def distribution(values) -> dict:
    """p50/p95/max (3 dp) of the values that are not None; Nones when there are none."""
    s = sorted(v for v in values if v is not None)
    return {
        "p50": rounded(percentile(s, 50)),
        "p95": rounded(percentile(s, 95)),
        "max": rounded(s[-1] if s else None),
    }


def ratio(a, b):
    """a / b rounded to 2 decimals; None when either is missing or b is not positive."""
    if a is None or b is None or b <= 0:
        return None
    return round(a / b, 2)


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    """Normalised Zipf weights of ranks 1..n: w_k proportional to 1 / k**s."""
    if n < 1:
        raise ValueError(f"a Zipf distribution needs n >= 1, got {n!r}")
    if s < 0:
        raise ValueError(f"the Zipf exponent must be >= 0, got {s!r}")
    raw = [1.0 / (k**s) for k in range(1, n + 1)]
    total = math.fsum(raw)
    return [w / total for w in raw]


class ZipfSampler:
    """Draws ranks 0..n-1 with Zipf weights from its own seeded RNG (deterministic)."""

    def __init__(self, n: int, s: float = 1.1, seed: int = 0):
        self.n = n
        self.weights = zipf_weights(n, s)
        acc, cum = 0.0, []
        for w in self.weights:
            acc += w
            cum.append(acc)
        cum[-1] = 1.0
        self._cum = cum
        self._rng = random.Random(seed)  # noqa: S311 - workload generator, not cryptography

    def sample(self) -> int:
        return min(bisect_right(self._cum, self._rng.random()), self.n - 1)

    def draw(self, k: int) -> list[int]:
        return [self.sample() for _ in range(k)]
