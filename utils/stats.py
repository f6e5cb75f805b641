"""Seed-by-seed comparisons: the paired difference of two settings and what it lets a chapter say.

Two settings trained with the same seeds (the same initial weights and batch order) differ by
``a[i] - b[i]`` in run ``i``. The book reports the mean of those differences with its standard
error, and calls a difference *shown* only when it exceeds twice that standard error; within it,
or with a single seed (no spread to estimate), the verdict is "not shown".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class PairedDifference:
    """``a - b`` run by run, and its summary."""

    differences: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def standard_error(self) -> float:
        """Standard error of the mean difference; 0.0 with one run (no spread to estimate)."""
        if len(self.differences) < 2:
            return 0.0
        return float(np.std(self.differences, ddof=1) / np.sqrt(len(self.differences)))

    @property
    def shown(self) -> bool:
        """Two runs at least, and a mean beyond twice its standard error."""
        return len(self.differences) >= 2 and abs(self.mean) > 2 * self.standard_error

    def verdict(self, positive: str, negative: str,
                neither: str = "no difference shown (within twice the standard error of the seeds)") -> str:
        """`positive` when a > b is shown, `negative` when a < b is, `neither` otherwise."""
        if not self.shown:
            return neither
        return positive if self.mean > 0 else negative


def paired_difference(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    """The run-by-run difference ``a[i] - b[i]`` of two settings measured with the same seeds."""
    a_values, b_values = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_values.ndim != 1 or a_values.shape != b_values.shape or len(a_values) == 0:
        raise ValueError(f"need two equally long, non-empty sequences, got {a_values.shape} and {b_values.shape}")
    return PairedDifference(tuple(float(x) for x in a_values - b_values))
