"""Training and timing helpers shared by the chapters, and the book's speed settings.

The book's policy, stated once (see "How this book is built"):

* :data:`JIT_COMPILE` — Keras models are compiled with XLA (``jit_compile=True``). Keras leaves
  XLA off on a CPU unless asked; where a model cannot be compiled (the sampled softmax's
  candidate sampler has no XLA kernel) the chapter says so beside the call.
* Seeding (:func:`utils.repro.seed_everything`) seeds every generator but does not turn on
  TensorFlow's op determinism: that switch makes Keras refuse XLA, and on a CPU reruns are
  already identical without it (the executor's reproducibility check proves it per chapter).
* Datasets the book builds go through :func:`book_dataset`: tf.data's autotuner off and a fixed
  prefetch of two batches, so that an epoch's time is compute, not the autotuner's timer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import keras
import numpy as np

JIT_COMPILE = True  # passed to every model.compile of the book
PREFETCH_BATCHES = 2  # a fixed buffer instead of tf.data.AUTOTUNE
SPEED_SETTINGS = {"jit_compile": JIT_COMPILE, "op_determinism": False, "tf_data_autotune": False,
                  "prefetch_batches": PREFETCH_BATCHES}


def book_dataset(dataset):
    """`dataset` with tf.data's autotuner off and a fixed prefetch (the book's setting)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(PREFETCH_BATCHES).with_options(options)


def array_dataset(inputs: Any, targets: Any, batch_size: int, *, shuffle_seed: int | None = None):
    """Batches of (inputs, targets) from NumPy arrays, reshuffled every epoch when `shuffle_seed`
    is given; what the book passes to ``fit`` instead of arrays (see :func:`book_dataset`).

    `inputs` may be a tuple of arrays (a model with several inputs).
    """
    import tensorflow as tf

    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    first = inputs[0] if isinstance(inputs, tuple) else inputs
    if len(first) != len(targets):
        raise ValueError(f"{len(first)} inputs but {len(targets)} targets")
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(targets), seed=shuffle_seed, reshuffle_each_iteration=True)
    return book_dataset(dataset.batch(batch_size))


class EpochHistory(keras.callbacks.Callback):
    """Records each epoch's seconds (``seconds``) and its logged metrics (``history[name]``).

    Keras's own ``History`` has the metrics but not the time, which the book reports.
    An epoch's time includes its validation pass, when there is one, and ends before the
    callbacks listed after this one run (put a test-set evaluation after it to keep it out).
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

    @property
    def steady_seconds(self) -> float:
        """Median epoch time, the first epoch (graph tracing, XLA compilation) left out when possible."""
        if not self.seconds:
            raise ValueError("no epoch has run")
        return float(np.median(self.seconds[1:] or self.seconds))


def fit_timed(model: keras.Model, x: Any, y: Any = None, *, batch_size: int | None = None,
              validation_data: Any = None, shuffle_seed: int = 0, **kwargs: Any) -> EpochHistory:
    """``model.fit`` with an :class:`EpochHistory` first among its callbacks.

    NumPy arrays ``x, y`` (and a ``validation_data`` pair of arrays) are passed as book
    datasets (:func:`array_dataset`: autotune off), the training batches reshuffled every
    epoch from `shuffle_seed`, as ``fit`` would shuffle arrays.
    """
    if y is not None:
        if batch_size is None:
            raise ValueError("fit_timed on arrays needs a batch_size")
        x, y = array_dataset(x, y, batch_size, shuffle_seed=shuffle_seed), None
    if isinstance(validation_data, tuple) and len(validation_data) == 2:
        validation_data = array_dataset(*validation_data, batch_size or 256)
    history = EpochHistory()
    kwargs["callbacks"] = [history, *kwargs.get("callbacks", [])]
    kwargs.setdefault("verbose", 0)
    # a dataset shuffles itself: Keras ignores (and warns about) shuffle=True on one
    model.fit(x, y, validation_data=validation_data, shuffle=False, **kwargs)
    return history
