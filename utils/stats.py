"""Seed-by-seed comparisons: the paired difference of two settings and what it lets a chapter say.

The book's evidence rule, stated once: two settings trained with the same seeds (the same initial
weights and batch order) differ by ``a[i] - b[i]`` in run ``i``; the book reports the mean of
those n differences with a 95 % confidence interval from Student's t with n - 1 degrees of
freedom, and calls a difference *shown* only when it rests on at least five seeds and that
interval excludes 0. With fewer seeds one run's luck could decide it: nothing is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
MIN_RUNS = 5  # seeds per setting before a difference of trained models can be shown
NOT_SHOWN = "not shown"


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided Student's t quantile for a mean of `n` paired differences (n - 1 degrees of freedom)."""
    if n < 2:
        raise ValueError(f"a t interval needs at least 2 runs, got {n}")
    return float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` run by run, and its summary."""

    differences: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def standard_error(self) -> float:
        """Standard error of the mean difference; 0.0 with one run (no spread to estimate)."""
        if self.n < 2:
            return 0.0
        return float(np.std(self.differences, ddof=1) / np.sqrt(self.n))

    @property
    def interval(self) -> tuple[float, float]:
        """The 95 % confidence interval of the mean difference (t, n - 1 degrees of freedom);
        unbounded with one run."""
        if self.n < 2:
            return (-math.inf, math.inf)
        half_width = t_quantile(self.n) * self.standard_error
        return (self.mean - half_width, self.mean + half_width)

    @property
    def low(self) -> float:
        return self.interval[0]

    @property
    def high(self) -> float:
        return self.interval[1]

    @property
    def shown(self) -> bool:
        """At least MIN_RUNS runs, and a 95 % interval that excludes 0."""
        return self.n >= MIN_RUNS and (self.low > 0 or self.high < 0)

    @property
    def not_shown_reason(self) -> str:
        """Why the difference is not shown ('' when it is)."""
        if self.shown:
            return ""
        if self.n < MIN_RUNS:
            return f"{self.n} seed{'s' if self.n != 1 else ''}, fewer than the {MIN_RUNS} the book's evidence rule needs"
        return "the 95 % interval includes 0"

    def describe(self, number: str = "{:+.3f}", scale: float = 1.0) -> str:
        """'mean (95 % interval low to high, n = …)', each value times `scale` and formatted by `number`."""
        low, high = (number.format(scale * x) if math.isfinite(x) else "unbounded" for x in self.interval)
        return f"{number.format(scale * self.mean)} (95 % interval {low} to {high}, n = {self.n})"

    def verdict(self, positive: str, negative: str, neither: str = NOT_SHOWN) -> str:
        """`positive` when a > b is shown, `negative` when a < b is, otherwise `neither` with its reason."""
        if not self.shown:
            return f"{neither} ({self.not_shown_reason})"
        return positive if self.mean > 0 else negative


def paired_difference(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    """The run-by-run difference ``a[i] - b[i]`` of two settings measured with the same seeds."""
    a_values, b_values = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_values.ndim != 1 or a_values.shape != b_values.shape or len(a_values) == 0:
        raise ValueError(f"need two equally long, non-empty sequences, got {a_values.shape} and {b_values.shape}")
    return PairedDifference(tuple(float(x) for x in a_values - b_values))
