"""Benchmark 3: time to accuracy on MNIST, the book's recipe against the source's.

Both are SimpleRNN(150) -> Dense(10) classifiers built, compiled and fed as chapter 2's
``train_classifier`` does (its layers, ``utils.training.JIT_COMPILE``, 20 steps per call, the
book's ``array_dataset`` reshuffled every epoch); a unit test holds the two together:

* the source's recipe: batch 150, Adam 1e-3, constant;
* the book's recipe (chapter 2): Adam 2e-3 with cosine decay over the epoch cap, clipnorm 1,
  random shifts of up to 2 pixels.

The two trainings alternate epoch by epoch in one process, so both see the same machine
load. Test accuracy is measured every half epoch; the clock counts training only (the
evaluations are paused out of it, as the chapter's epoch times are). A recipe stops when it
reaches the last target or the epoch cap; a target it never reached is reported as such.

    python -m bench.time_to_accuracy [--tiny] [--out DIR]
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import bench_main, format_table, log, quiet_tensorflow, write_results

TARGETS = (0.975, 0.98)
RECIPES = {
    "source": dict(),  # Recipe() defaults: SimpleRNN 150, batch 150, Adam 1e-3 constant
    "book": dict(learning_rate=2e-3, schedule="cosine", clipnorm=1.0, max_shift=2),
}


def compiled_classifier(recipe, epochs: int, train_samples: int, xla: bool = True):
    """A fresh classifier compiled with the settings of chapter 2's ``train_classifier``
    (`xla=False` only for the tiny run, where compiling would cost more than the run)."""
    import keras

    from chapter_code.ch02_mnist_rnn import build_classifier
    from utils.training import JIT_COMPILE

    model = build_classifier(recipe)
    steps = epochs * int(np.ceil(train_samples / recipe.batch_size))
    learning_rate = (keras.optimizers.schedules.CosineDecay(recipe.learning_rate, steps)
                     if recipe.schedule == "cosine" else recipe.learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=recipe.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=xla and JIT_COMPILE, steps_per_execution=20)
    return model


class _Trainer:
    """One recipe's training, advanced an epoch at a time, with a training-only clock."""

    def __init__(self, name: str, recipe, data, max_epochs: int, evals_per_epoch: int, seed: int,
                 xla: bool = True):
        import keras

        from utils.training import array_dataset

        self.name, self.recipe, self.data, self.max_epochs = name, recipe, data, max_epochs
        keras.utils.set_random_seed(seed)
        x_train = data[0]
        self.train_data = array_dataset(x_train, data[1], recipe.batch_size, shuffle_seed=seed)
        self.test_data = array_dataset(data[2], data[3], 1000)
        self.model = compiled_classifier(recipe, max_epochs, len(x_train), xla)
        self.steps_per_epoch = int(np.ceil(len(x_train) / recipe.batch_size))
        # Evaluate at these batch counts inside an epoch (callbacks fire every steps_per_execution).
        every = max(20, int(round(self.steps_per_epoch / evals_per_epoch / 20)) * 20)
        self.eval_batches = set(range(every, self.steps_per_epoch, every)) if evals_per_epoch > 1 else set()
        self.epoch = 0
        self.train_seconds = 0.0
        self.eval_seconds = 0.0
        self.curve: list[dict[str, float]] = []  # {"epoch", "train_s", "test_accuracy"}
        self.reached: dict[float, dict[str, float] | None] = {t: None for t in TARGETS}

    @property
    def done(self) -> bool:
        return self.epoch >= self.max_epochs or self.reached[TARGETS[-1]] is not None

    def _evaluate(self, epoch_position: float) -> None:
        start = time.perf_counter()
        accuracy = float(self.model.evaluate(self.test_data, verbose=0)[1])
        self.eval_seconds += time.perf_counter() - start
        point = {"epoch": round(epoch_position, 3), "train_s": self.train_seconds, "test_accuracy": accuracy}
        self.curve.append(point)
        for target in TARGETS:
            if self.reached[target] is None and accuracy >= target:
                self.reached[target] = point

    def train_one_epoch(self) -> None:
        import keras

        trainer = self

        class Clock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                if batch + 1 in trainer.eval_batches:
                    trainer.train_seconds += time.perf_counter() - self.start
                    trainer._evaluate(trainer.epoch + (batch + 1) / trainer.steps_per_epoch)
                    self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                trainer.train_seconds += time.perf_counter() - self.start

        self.model.fit(self.train_data, epochs=self.epoch + 1, initial_epoch=self.epoch, verbose=0,
                       callbacks=[Clock()])
        self.epoch += 1
        self._evaluate(self.epoch)


def load_data(tiny: bool, train_samples: int | None, test_samples: int | None):
    """MNIST as float sequences; the tiny run uses random data of the same shapes (no files needed)."""
    from chapter_code.ch02_mnist_rnn import as_sequences

    if tiny:
        rng = np.random.default_rng(0)
        x_train = rng.integers(0, 256, (train_samples, 28, 28), dtype=np.uint8)
        x_test = rng.integers(0, 256, (test_samples, 28, 28), dtype=np.uint8)
        return (as_sequences(x_train), rng.integers(0, 10, train_samples),
                as_sequences(x_test), rng.integers(0, 10, test_samples))
    from utils.data import load_mnist

    (x_train, y_train), (x_test, y_test) = load_mnist()
    return as_sequences(x_train), y_train, as_sequences(x_test), y_test


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main("time_to_accuracy", __doc__, run, argv)


def run(tiny: bool, out: Path) -> dict[str, Any]:
    quiet_tensorflow()
    from chapter_code.ch02_mnist_rnn import Recipe

    if tiny:
        settings = {"max_epochs": 1, "evals_per_epoch": 1, "train_samples": 300, "test_samples": 100, "xla": False,
                    "data": "random MNIST-shaped data (tiny run: proves the harness, reaches nothing)"}
    else:
        # The chapter's 15 epochs; the book's cosine schedule decays over that cap.
        settings = {"max_epochs": 15, "evals_per_epoch": 2, "train_samples": 60000, "test_samples": 10000, "xla": True,
                    "data": "MNIST, 60,000 training and 10,000 test images"}
    data = load_data(tiny, settings["train_samples"], settings["test_samples"])
    trainers = [_Trainer(name, Recipe(**kwargs), data, settings["max_epochs"], settings["evals_per_epoch"], seed=0,
                         xla=settings["xla"])
                for name, kwargs in RECIPES.items()]
    while not all(t.done for t in trainers):
        for trainer in trainers:
            if not trainer.done:
                trainer.train_one_epoch()
                log(f"time to accuracy: {trainer.name} epoch {trainer.epoch}: "
                    f"{trainer.curve[-1]['test_accuracy']:.4f} after {trainer.train_seconds:.0f} s")
    rows, summary = [], {}
    for trainer in trainers:
        row = {"recipe": trainer.name, "settings": asdict(trainer.recipe),
               "epochs_run": trainer.epoch, "train_s": trainer.train_seconds, "eval_s": trainer.eval_seconds,
               "best_test_accuracy": max(p["test_accuracy"] for p in trainer.curve), "curve": trainer.curve}
        for target in TARGETS:
            hit = trainer.reached[target]
            key = f"{target * 100:g}"
            row[f"seconds_to_{key}"] = hit["train_s"] if hit else None
            row[f"epochs_to_{key}"] = hit["epoch"] if hit else None
        rows.append(row)
        summary[trainer.name] = {k: row[k] for k in row if k.startswith(("seconds_to", "epochs_to", "best"))}
    settings.update({"targets": list(TARGETS), "clock": "training only; evaluations paused out",
                     "order": "the two recipes alternate epoch by epoch"})
    path = write_results("time_to_accuracy", out, tiny=tiny, settings=settings, rows=rows, summary=summary)
    headers = ["recipe", "epochs run", "best acc", *(f"s to {t * 100:g} %" for t in TARGETS),
               *(f"epochs to {t * 100:g} %" for t in TARGETS)]
    print(format_table(headers, [[r["recipe"], r["epochs_run"], r["best_test_accuracy"],
                                  *(r[f"seconds_to_{t * 100:g}"] or "not reached" for t in TARGETS),
                                  *(r[f"epochs_to_{t * 100:g}"] or "not reached" for t in TARGETS)] for r in rows]))
    print(f"wrote {path}")
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    main()
