"""Training helpers shared by the chapters: per-epoch wall-clock time beside the logged metrics."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import keras


class EpochHistory(keras.callbacks.Callback):
    """Records each epoch's seconds (``seconds``) and its logged metrics (``history[name]``).

    Keras's own ``History`` has the metrics but not the time, which the book reports.
    An epoch's time includes its validation pass, when there is one.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.history: dict[str, list[float]] = defaultdict(list)
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
        for name, value in (logs or {}).items():
            self.history[name].append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.history:
            raise KeyError(f"no metric {name!r} was logged; logged: {', '.join(self.history) or 'none'}")
        return self.history[name]

    @property
    def epochs(self) -> int:
        return len(self.seconds)


def fit_timed(model: keras.Model, *args: Any, **kwargs: Any) -> EpochHistory:
    """``model.fit(*args, **kwargs)`` with an :class:`EpochHistory` added to its callbacks."""
    history = EpochHistory()
    kwargs["callbacks"] = [*kwargs.get("callbacks", []), history]
    kwargs.setdefault("verbose", 0)
    model.fit(*args, **kwargs)
    return history
