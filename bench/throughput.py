"""Benchmark 1: training throughput of the book's classifiers, Keras against PyTorch.

SimpleRNN / LSTM / GRU (150 units) -> Dense(10), MNIST shapes (28 steps of 28 inputs), Adam,
sparse cross-entropy on logits. Random inputs: the speed of a training step does not depend
on the pixel values. For each cell every contender (several ways to run the Keras model, and
the same model in PyTorch) is timed in one process, interleaved, and the median of the
repeats is reported.

    python -m bench.throughput [--tiny] [--out DIR]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.common import (
    Contender,
    alternate,
    bench_main,
    format_table,
    log,
    quiet_tensorflow,
    spread,
    write_results,
)

CELLS = ("simple", "lstm", "gru")
STEPS = INPUTS = 28
UNITS = 150
CLASSES = 10


@dataclass(frozen=True)
class KerasVariant:
    """One way to train the Keras model. `layer`: 'keras' (the stock layer), 'hoisted' or 'fused'."""

    label: str
    jit_compile: bool = False
    unroll: bool = False
    steps_per_execution: int = 1
    # "dataset": a batched tf.data.Dataset built once (steady-state step time, like an epoch's);
    # "numpy": arrays handed to fit, converted at every call; "cached": dataset + cache + prefetch.
    data: str = "dataset"
    layer: str = "keras"
    book: bool = False  # exactly the book's build_classifier + compile settings

    @property
    def stock(self) -> bool:
        return self.layer == "keras"


def keras_variants(cell: str) -> list[KerasVariant]:
    """What TensorFlow offers for speed, one change at a time, plus the book's own settings."""
    book_xla = cell != "lstm"  # chapter 2: XLA and unroll for SimpleRNN and GRU, not for LSTM
    variants = [
        KerasVariant("Keras defaults (fit, no XLA on CPU)"),
        KerasVariant("steps_per_execution=20", steps_per_execution=20, book=not book_xla),
        KerasVariant("XLA (jit_compile)", jit_compile=True, steps_per_execution=20),
        KerasVariant("unroll=True", unroll=True, steps_per_execution=20),
        KerasVariant("XLA + unroll", jit_compile=True, unroll=True, steps_per_execution=20, book=book_xla),
        # The input pipeline, tried on the book's model (the same compiled model as the book's row).
        KerasVariant("book settings, NumPy arrays to fit (as the book calls fit)", jit_compile=book_xla,
                     unroll=book_xla, steps_per_execution=20, data="numpy", book=True),
        KerasVariant("book settings, dataset cache + prefetch", jit_compile=book_xla, unroll=book_xla,
                     steps_per_execution=20, data="cached", book=True),
    ]
    if cell == "lstm":
        # For the LSTM the hoisted layer compiles for close to a minute and was not faster in trials.
        variants.append(KerasVariant("fused BlockLSTM kernel (custom layer)", steps_per_execution=20, layer="fused"))
    else:
        variants.append(KerasVariant("hoisted input projection (custom layer, XLA + unroll)", jit_compile=True,
                                     steps_per_execution=20, layer="hoisted"))
    return variants


def random_mnist_shaped(samples: int, seed: int = 0, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((samples, steps, INPUTS), dtype=np.float32), rng.integers(0, CLASSES, samples).astype(np.int32)


def build_keras_model(cell: str, variant: KerasVariant, units: int = UNITS, steps: int = STEPS):
    import keras

    from chapter_code.ch02_mnist_rnn import Recipe, build_classifier

    if variant.book and steps == STEPS:
        return build_classifier(Recipe(cell=cell, units=units))
    if variant.layer == "hoisted":
        from bench.tf_rnn import HoistedRNN
        recurrent = HoistedRNN(cell, units)
    elif variant.layer == "fused":
        from bench.tf_rnn import FusedLSTM
        recurrent = FusedLSTM(units)
    else:
        layer = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
        recurrent = layer(units, unroll=variant.unroll)
    return keras.Sequential([keras.Input((steps, INPUTS)), recurrent, keras.layers.Dense(CLASSES)])


def compiled_keras_model(cell: str, variant: KerasVariant, units: int = UNITS, steps: int = STEPS):
    import keras

    model = build_keras_model(cell, variant, units, steps)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=variant.jit_compile, steps_per_execution=variant.steps_per_execution)
    return model


def keras_contender(cell: str, variant: KerasVariant, x: np.ndarray, y: np.ndarray, batch: int,
                    units: int = UNITS, model=None) -> Contender:
    """Time `model.fit` on x, y; `model` (compiled for `variant`) is shared by variants that
    differ only in how the data is fed, which saves compiling the same model again."""
    import tensorflow as tf

    model = model if model is not None else compiled_keras_model(cell, variant, units, steps=x.shape[1])
    # No shuffling on either side: both frameworks see the same batches in the same order.
    if variant.data == "numpy":
        def run() -> int:
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
            return len(x)
    else:
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)
        if variant.data == "cached":
            data = data.cache().prefetch(tf.data.AUTOTUNE)

        def run() -> int:
            model.fit(data, epochs=1, verbose=0, shuffle=False)
            return len(x)
    return Contender(f"Keras: {variant.label}", run)


def torch_contender(cell: str, x: np.ndarray, y: np.ndarray, batch: int, units: int = UNITS,
                    torch_module: Any = None) -> Contender:
    """The same classifier in PyTorch (nn.RNN tanh / nn.LSTM / nn.GRU, batch_first), eager mode.

    `torch_module` replaces ``import torch`` (the unit tests pass a stand-in when torch is absent).
    """
    torch = torch_module
    if torch is None:
        import torch
    nn = torch.nn
    recurrent_class = {"simple": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.recurrent = recurrent_class(INPUTS, units, batch_first=True)
            self.dense = nn.Linear(units, CLASSES)

        def forward(self, inputs):
            outputs, _ = self.recurrent(inputs)
            return self.dense(outputs[:, -1])

    torch.manual_seed(0)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def run() -> int:
        for start in range(0, len(inputs), batch):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs[start:start + batch]), labels[start:start + batch])
            loss.backward()
            optimizer.step()
        return len(inputs)

    return Contender(f"PyTorch {torch.__version__}: eager", run)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _all_variants(cell: str, variant: KerasVariant) -> bool:
    return True


def _tiny_variants(cell: str, variant: KerasVariant) -> bool:
    """Each kind of Keras code path once: stock layer from a dataset, NumPy arrays, each custom layer."""
    if cell == "simple":
        return variant.label.startswith("Keras defaults") or variant.data == "numpy" or variant.layer == "hoisted"
    return variant.layer == "fused" if cell == "lstm" else variant.label.startswith("Keras defaults")


def measure(cells: tuple[str, ...], batches: dict[str, int], batch: int, repeats: int, units: int = UNITS,
            steps: int = STEPS,
            variant_filter: Callable[[str, KerasVariant], bool] = _all_variants, torch_module: Any = None,
            with_torch: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Time every contender of every cell; returns (rows, summary)."""
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for cell in cells:
        x, y = random_mnist_shaped(batches[cell] * batch, steps=steps)
        variants = [v for v in keras_variants(cell) if variant_filter(cell, v)]
        models: dict[tuple, Any] = {}
        contenders = []
        for v in variants:
            key = (v.jit_compile, v.unroll, v.steps_per_execution, v.layer, v.book)
            if key not in models:
                models[key] = compiled_keras_model(cell, v, units, steps)
            contenders.append(keras_contender(cell, v, x, y, batch, units, models[key]))
        if with_torch:
            contenders.append(torch_contender(cell, x, y, batch, units, torch_module))
        log(f"throughput: {cell}, {len(contenders)} contenders, {repeats} repeats of {len(x)} samples")
        alternate(contenders, repeats, progress=log)
        torch_rate = contenders[-1].median_rate if with_torch else None
        for contender, variant in zip(contenders, [*variants, None]):
            low, high = spread(contender.rates)
            rows.append({
                "cell": cell, "framework": "keras" if variant else "pytorch", "variant": contender.name,
                "stock_layer": variant.stock if variant else None,
                "book_settings": bool(variant and variant.book and variant.data == "dataset"),
                "data": variant.data if variant else "tensor slices",
                "samples_per_s": contender.median_rate, "min": low, "max": high,
                "setup_s": contender.setup_seconds,
                "vs_pytorch": contender.median_rate / torch_rate if torch_rate else None,
            })
        keras_rows = [r for r in rows if r["cell"] == cell and r["framework"] == "keras"]
        best_stock = max((r for r in keras_rows if r["stock_layer"]), key=lambda r: r["samples_per_s"],
                         default={"variant": None, "samples_per_s": None, "vs_pytorch": None})
        best_any = max(keras_rows, key=lambda r: r["samples_per_s"])
        book = next((r for r in keras_rows if r["book_settings"]), None)
        summary[cell] = {
            "pytorch_samples_per_s": torch_rate,
            "best_stock_keras": best_stock["variant"], "best_stock_keras_samples_per_s": best_stock["samples_per_s"],
            "best_stock_vs_pytorch": best_stock["vs_pytorch"],
            "best_keras": best_any["variant"], "best_keras_vs_pytorch": best_any["vs_pytorch"],
            "book_settings_vs_pytorch": book["vs_pytorch"] if book else None,
        }
    return rows, summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main("throughput", __doc__, run, argv)


def run(tiny: bool, out: Path, torch_module: Any = None) -> dict[str, Any]:
    quiet_tensorflow()
    has_torch = torch_module is not None or torch_available()
    notes = []
    if not has_torch:
        notes.append("PyTorch is not installed: only Keras was timed (`make bench` installs it from "
                      "requirements-bench.txt).")
        log("throughput: " + notes[-1])
    if tiny:
        # One Keras contender per kind of code path (stock layer from a dataset, NumPy arrays, each custom
        # layer) and PyTorch, on 3-step sequences: the harness end to end in seconds.
        settings = {"batch": 8, "units": 8, "steps": 3, "repeats": 1, "batches_per_repeat": {c: 2 for c in CELLS}}
        variant_filter = _tiny_variants
    else:
        # About one second per repeat for each contender on a 2-core CPU.
        settings = {"batch": 150, "units": UNITS, "steps": STEPS, "repeats": 7,
                    "batches_per_repeat": {"simple": 40, "lstm": 20, "gru": 20}}
        variant_filter = _all_variants
    rows, summary = measure(CELLS, settings["batches_per_repeat"], settings["batch"], settings["repeats"],
                            settings["units"], settings["steps"], variant_filter, torch_module, with_torch=has_torch)
    settings.update({"inputs": INPUTS, "optimizer": "Adam 1e-3",
                     "measure": "median of interleaved repeats; each repeat trains on the same batches"})
    path = write_results("throughput", out, tiny=tiny, settings=settings, rows=rows, summary=summary, notes=notes)
    print(format_table(["cell", "contender", "samples/s", "min", "max", "× PyTorch", "set-up s"],
                       [[r["cell"], r["variant"], r["samples_per_s"], r["min"], r["max"], r["vs_pytorch"],
                         r["setup_s"]] for r in rows]))
    print(f"wrote {path}")
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    main()
