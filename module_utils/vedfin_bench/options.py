"""The options of one benchmark run: :class:`BenchOptions`, validated when it is made."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils.vedfin_bench.checks import TARGETS
from ansible.module_utils.vedfin_bench.common import BenchError
from ansible.module_utils.vedfin_pg import VedfinError

# Allowed ranges of the numeric options (inclusive).
LIMITS = {
    "iterations": (1, 100_000),
    "warmup": (0, 10_000),
    "concurrency": (1, 256),
    "duration": (0.1, 86_400.0),
    "max_requests": (1, 10_000_000),
    "time_budget": (0.1, 86_400.0),
    "write_load_rate": (0, 100_000),
    "lag_sample_interval": (0.05, 60.0),
}


@dataclass(frozen=True)
class BenchOptions:
    """How a benchmark run measures; where it connects (``target``, ``redis_url``,
    ``read_target``) is given to ``run_bench`` beside it, so nothing secret is in here.

    ``iterations``/``warmup``: measured and unmeasured rounds per query and variant;
    ``time_budget``: seconds per query for both.  Mixed workload: ``concurrency`` client
    threads for at most ``duration`` seconds and ``max_requests`` requests, query and
    parameters drawn with Zipf exponent ``zipf_s`` from RNGs seeded by ``seed`` (which also
    seeds the user sampling).  ``scale`` (demo, staging, large) chooses the targets; ``tz`` is
    passed to the queries; ``tuned_settings`` (e.g. pg_tune's output; empty: the server's
    ``reset_val``) is the tuned side of the settings comparison.  ``statement_timeout_ms`` of
    every session; ``cache_ttl`` seconds of the benchmark's Redis keys.  ``queries``: the
    names to measure (default all 13).  Replica mode only: ``write_load_rate`` rows/s on the
    primary (0 = none) and ``lag_sample_interval`` seconds.  ``sql_dir``: the directory of the
    analytics SQL forms (default: the repository's sql/analytics, which a module run through
    Ansible does not have next to it).

    Raises BenchError naming the option when a value is out of range, the scale or the time
    zone is unknown, or a query name is not in the registry.
    """

    iterations: int = 20
    warmup: int = 3
    concurrency: int = 8
    duration: float = 10.0
    max_requests: int = 100_000
    time_budget: float = 60.0
    scale: str = "demo"
    tz: str = "UTC"
    tuned_settings: dict = field(default_factory=dict)
    seed: int = 1
    zipf_s: float = 1.1
    statement_timeout_ms: int = 300_000
    cache_ttl: float = 900.0
    queries: tuple[str, ...] = ()
    write_load_rate: int = 1000
    lag_sample_interval: float = 0.5
    sql_dir: str | None = None

    def __post_init__(self):
        for key, (lo, hi) in LIMITS.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise BenchError(f"{key} must be a number within {lo}..{hi}, got {value!r}")
        if self.scale not in TARGETS:
            raise BenchError(f"scale {self.scale!r} is not one of: {', '.join(TARGETS)}")
        try:
            va.validate("daily_active_users", {"tz": self.tz})
        except VedfinError as exc:
            raise BenchError(f"tz: {exc}") from None
        object.__setattr__(self, "tuned_settings", dict(self.tuned_settings or {}))
        object.__setattr__(self, "queries", tuple(self.queries or ()))
        unknown = [n for n in self.queries if n not in va.QUERIES]
        if unknown:
            raise BenchError(f"unknown queries: {', '.join(unknown)}; allowed: {', '.join(va.QUERIES)}")

    @property
    def names(self) -> list[str]:
        """The queries to measure, in order."""
        return list(self.queries or va.QUERIES)

    def as_result(self) -> dict:
        """The ``options`` key of the result (docs/BENCHMARK.md)."""
        return {
            "iterations": self.iterations,
            "warmup": self.warmup,
            "concurrency": self.concurrency,
            "duration_s": self.duration,
            "max_requests": self.max_requests,
            "seed": self.seed,
            "zipf_s": self.zipf_s,
            "time_budget_s": self.time_budget,
            "statement_timeout_ms": self.statement_timeout_ms,
        }
