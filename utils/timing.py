"""The book's one interleaved timer: chapters' speed comparisons and the benchmarks both use it."""

from __future__ import annotations

import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence


@dataclass
class Contender:
    """One thing to time: `run()` does one repetition of the work and returns how many samples
    (or steps) it processed; `setup()` (tracing, compilation, first allocations) runs once,
    untimed but recorded."""

    name: str
    run: Callable[[], int]
    setup: Callable[[], Any] | None = None
    setup_seconds: float = 0.0
    seconds: list[float] = field(default_factory=list)
    samples: list[int] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        return [n / s for n, s in zip(self.samples, self.seconds)]

    @property
    def median_rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def seconds_per_sample(self) -> list[float]:
        return [s / n for n, s in zip(self.samples, self.seconds)]


def alternate(contenders: Sequence[Contender], repeats: int, warmup: int = 1,
              progress: Callable[[str], None] | None = None) -> list[Contender]:
    """Time every contender `repeats` times, interleaved: A B C, B C A, C A B, ...

    Interleaving gives every contender the same share of a machine whose load changes, and
    rotating the order keeps any one of them from always running right after another (a
    framework's idle threads may still be spinning when the next one starts). The one timer
    of the book: the chapters' comparisons and the benchmarks both use it.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError("repeats must be >= 1 and warmup >= 0")
    if not contenders:
        raise ValueError("nothing to time")
    for contender in contenders:
        start = time.perf_counter()
        if contender.setup is not None:
            contender.setup()
        for _ in range(warmup):
            contender.run()
        contender.setup_seconds = time.perf_counter() - start
        if progress:
            progress(f"  set up {contender.name}: {contender.setup_seconds:.1f} s")
    count = len(contenders)
    for rep in range(repeats):
        for k in range(count):
            contender = contenders[(rep + k) % count]
            start = time.perf_counter()
            samples = contender.run()
            contender.seconds.append(time.perf_counter() - start)
            contender.samples.append(int(samples))
        if progress:
            progress(f"  repeat {rep + 1}/{repeats} done")
    return list(contenders)


def cpu_model() -> str:
    """The processor's model name, for the record beside a timing or a rerun."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
