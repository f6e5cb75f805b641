"""Benchmark 1: training throughput of the book's classifiers, Keras against PyTorch.

SimpleRNN / LSTM / GRU (150 units) -> Dense(10), MNIST shapes (28 steps of 28 inputs), Adam,
sparse cross-entropy on logits. Random inputs: the speed of a training step does not depend
on the pixel values. For each cell every contender is timed in one process, interleaved:

* Keras: its defaults, XLA, XLA with the loop unrolled, a custom layer, and **the book's
  settings**: the model that chapter 2's ``train_classifier`` builds and compiles, taken from
  that function itself, so that the row is what the book runs (its label is read off the model);
* PyTorch: eager, and ``torch.compile`` (with ``torch._dynamo.config.allow_rnn``; for the LSTM
  with oneDNN off, without which inductor fails on ``mkldnn_rnn_layer``). Both frameworks use
  as many threads as there are cores.

Keras trains through ``fit`` on a dataset built once with tf.data's autotuner off (the book's
``array_dataset``), PyTorch over the same batches as pre-sliced tensors. Every ratio is the
median of per-turn ratios against the best PyTorch set-up, with a bootstrap interval over turns.
The workload's arithmetic and this machine's matrix-product speed put each rate against the
physical limit.

    python -m bench.throughput [--tiny] [--out DIR]
"""

from __future__ import annotations

import os
import time
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
    paired_ratio,
    quiet_tensorflow,
    spread,
    write_results,
)

CELLS = ("simple", "lstm", "gru")
GATES = {"simple": 1, "lstm": 4, "gru": 3}  # matrix products per step, each units wide
STEPS = INPUTS = 28
UNITS = 150
CLASSES = 10


def flops_per_sample(cell: str, units: int = UNITS, steps: int = STEPS, inputs: int = INPUTS) -> float:
    """Multiply-add FLOPs of one training sample: 3 × forward (the backward pass costs about two
    forwards), forward = steps × 2·gates·units·(inputs + units) + the Dense head's 2·units·classes.
    Element-wise work (activations, gates' products) is left out: it is small next to the products."""
    forward = steps * 2 * GATES[cell] * units * (inputs + units) + 2 * units * CLASSES
    return 3.0 * forward


@dataclass(frozen=True)
class KerasVariant:
    """One way to train the Keras model. `layer`: 'keras' (the stock layer), 'hoisted' or 'fused';
    `book`: the model chapter 2's train_classifier builds and compiles (the other fields unused)."""

    label: str
    jit_compile: bool = False
    unroll: bool = False
    steps_per_execution: int = 1
    layer: str = "keras"
    book: bool = False

    @property
    def stock(self) -> bool:
        return self.layer == "keras"


def keras_variants(cell: str) -> list[KerasVariant]:
    """What TensorFlow offers for speed, one change at a time, and the book's own model."""
    variants = [
        KerasVariant("Keras defaults (no XLA on a CPU, 1 step per call)"),
        KerasVariant("XLA, 20 steps per call", jit_compile=True, steps_per_execution=20),
        KerasVariant("XLA + unroll, 20 steps per call", jit_compile=True, unroll=True, steps_per_execution=20),
        KerasVariant("the book's settings", book=True),
    ]
    if cell == "lstm":
        variants.append(KerasVariant("fused BlockLSTM kernel (custom layer), 20 steps per call",
                                     steps_per_execution=20, layer="fused"))
    else:
        variants.append(KerasVariant("hoisted input projection (custom layer), XLA, 20 steps per call",
                                     jit_compile=True, steps_per_execution=20, layer="hoisted"))
    return variants


def random_mnist_shaped(samples: int, seed: int = 0, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((samples, steps, INPUTS), dtype=np.float32), rng.integers(0, CLASSES, samples).astype(np.int32)


def book_model(cell: str, units: int = UNITS, batch: int = 150):
    """The classifier exactly as chapter 2 trains it: `train_classifier` builds and compiles it
    (here on one batch of random data, one epoch), and the benchmark goes on training it."""
    from chapter_code.ch02_mnist_rnn import Recipe, train_classifier

    x, y = random_mnist_shaped(batch, seed=1)
    return train_classifier(Recipe(cell=cell, units=units, batch_size=batch), x, y, x[:2], y[:2], epochs=1,
                            test_every_epoch=False).model


def describe_settings(model) -> str:
    """The speed settings a compiled Keras model really has (Keras may refuse XLA: then it says so)."""
    unrolled = any(getattr(layer, "unroll", False) for layer in model.layers)
    parts = ["XLA" if model.jit_compile else "no XLA"] + (["unroll"] if unrolled else [])
    return f"{' + '.join(parts)}, {model.steps_per_execution} steps per call"


def build_keras_model(cell: str, variant: KerasVariant, units: int = UNITS, steps: int = STEPS):
    import keras

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


def compiled_keras_model(cell: str, variant: KerasVariant, units: int = UNITS, steps: int = STEPS,
                         batch: int = 150):
    import keras

    if variant.book:
        return book_model(cell, units, batch)
    model = build_keras_model(cell, variant, units, steps)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=variant.jit_compile, steps_per_execution=variant.steps_per_execution)
    return model


def keras_contender(cell: str, variant: KerasVariant, x: np.ndarray, y: np.ndarray, batch: int,
                    units: int = UNITS) -> Contender:
    """Time `model.fit` for one pass over x, y, fed as the book feeds Keras (autotuner off)."""
    from utils.training import array_dataset

    model = compiled_keras_model(cell, variant, units, steps=x.shape[1], batch=batch)
    # No shuffling on either side: both frameworks see the same batches in the same order.
    data = array_dataset(x, y, batch)

    def run() -> int:
        model.fit(data, epochs=1, verbose=0, shuffle=False)
        return len(x)

    label = f"the book's settings ({describe_settings(model)})" if variant.book else variant.label
    return Contender(f"Keras: {label}", run)


def torch_contender(cell: str, x: np.ndarray, y: np.ndarray, batch: int, units: int = UNITS,
                    torch_module: Any = None, compiled: bool = False) -> Contender:
    """The same classifier in PyTorch (nn.RNN tanh / nn.LSTM / nn.GRU, batch_first), eager or
    compiled (`torch.compile` of the model; Adam's step stays eager).

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
    forward = model
    label = "eager"
    if compiled:
        import torch._dynamo

        torch._dynamo.config.allow_rnn = True  # without it, dynamo leaves nn.RNN/LSTM/GRU uncompiled
        forward = torch.compile(model)
        label = "torch.compile" + (" (oneDNN off)" if cell == "lstm" else "")

    def train_pass() -> int:
        for start in range(0, len(inputs), batch):
            optimizer.zero_grad()
            loss = loss_fn(forward(inputs[start:start + batch]), labels[start:start + batch])
            loss.backward()
            optimizer.step()
        return len(inputs)

    run = train_pass
    if compiled and cell == "lstm":
        def run() -> int:  # inductor cannot lower oneDNN's LSTM kernel: the plain one compiles
            with torch.backends.mkldnn.flags(enabled=False):
                return train_pass()

    return Contender(f"PyTorch {torch.__version__}: {label}", run)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def match_threads(torch_module: Any = None) -> dict[str, int]:
    """Both frameworks get as many threads as the cores this process may use; returns them."""
    import tensorflow as tf

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = {"cores": cores, "tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads() or cores}
    if torch_module is not None and hasattr(torch_module, "set_num_threads"):
        torch_module.set_num_threads(cores)
        threads["pytorch"] = torch_module.get_num_threads()
    return threads


# ----------------------------------------------------------------------------- the physical limit

def gemm_gflops(shapes: list[tuple[int, int, int]], seconds: float = 0.5, torch_module: Any = None
                ) -> list[dict[str, Any]]:
    """fp32 matrix-product speed (GFLOP/s, median of 5 turns) of each (m, k, n) in TensorFlow and PyTorch."""
    import tensorflow as tf

    rows = []
    rng = np.random.default_rng(0)
    for m, k, n in shapes:
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        repeats = max(1, int(seconds * 100e9 / (2 * m * k * n)))  # about `seconds` at 100 GFLOP/s

        @tf.function
        def tf_products(a, b, repeats=repeats):
            total = tf.zeros((m, n))
            for _ in tf.range(repeats):
                total += tf.matmul(a, b)
            return total

        ta, tb = tf.constant(a), tf.constant(b)
        contenders = [Contender("tensorflow", lambda: (tf_products(ta, tb).numpy(), repeats)[1])]
        if torch_module is not None:
            pa, pb = torch_module.from_numpy(a), torch_module.from_numpy(b)

            def torch_products(pa=pa, pb=pb, repeats=repeats) -> int:
                with torch_module.no_grad():
                    total = torch_module.zeros((m, n))
                    for _ in range(repeats):
                        total += pa @ pb
                return repeats

            contenders.append(Contender("pytorch", torch_products))
        alternate(contenders, 5)
        row = {"m": m, "k": k, "n": n, "shape": f"{m}×{k}×{n}"}
        for contender in contenders:
            row[f"{contender.name}_gflops"] = 2 * m * k * n * contender.median_rate / 1e9
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- measurement

def _all_variants(cell: str, variant: KerasVariant) -> bool:
    return True


def _tiny_variants(cell: str, variant: KerasVariant) -> bool:
    """Each kind of Keras code path once: the defaults per cell, the book's model, each custom layer."""
    if cell == "simple":
        return variant.label.startswith("Keras defaults") or variant.book or variant.layer == "hoisted"
    return variant.layer == "fused" if cell == "lstm" else variant.label.startswith("Keras defaults")


def measure(cells: tuple[str, ...], batches: dict[str, int], batch: int, repeats: int, units: int = UNITS,
            steps: int = STEPS,
            variant_filter: Callable[[str, KerasVariant], bool] = _all_variants, torch_module: Any = None,
            with_torch: bool = True, torch_compiled: bool = True) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Time every contender of every cell; returns (rows, summary)."""
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    for cell in cells:
        x, y = random_mnist_shaped(batches[cell] * batch, steps=steps)
        variants = [v for v in keras_variants(cell) if variant_filter(cell, v)]
        contenders = [keras_contender(cell, v, x, y, batch, units) for v in variants]
        kinds = ["keras-book" if v.book else "keras-stock" if v.stock else "keras-custom" for v in variants]
        if with_torch:
            contenders.append(torch_contender(cell, x, y, batch, units, torch_module))
            kinds.append("pytorch-eager")
            if torch_compiled:
                contenders.append(torch_contender(cell, x, y, batch, units, torch_module, compiled=True))
                kinds.append("pytorch-compiled")
        log(f"throughput: {cell}, {len(contenders)} contenders, {repeats} repeats of {len(x)} samples")
        alternate(contenders, repeats, progress=log)
        torch_by_kind = {k: c for c, k in zip(contenders, kinds) if k.startswith("pytorch")}
        best_torch = max(torch_by_kind.values(), key=lambda c: c.median_rate, default=None)
        flops = flops_per_sample(cell, units, steps)
        for contender, kind in zip(contenders, kinds):
            low, high = spread(contender.rates)
            ratio = paired_ratio(contender.rates, best_torch.rates) if best_torch else None
            rows.append({
                "cell": cell, "framework": kind.split("-")[0], "kind": kind, "variant": contender.name,
                "book_settings": kind == "keras-book",
                "samples_per_s": contender.median_rate, "min": low, "max": high,
                "setup_s": contender.setup_seconds, "gflops": contender.median_rate * flops / 1e9,
                "vs_best_pytorch": ratio,
            })
        keras_rows = [r for r in rows if r["cell"] == cell and r["framework"] == "keras"]
        best_keras = max(keras_rows, key=lambda r: r["samples_per_s"])
        book = next((r for r in keras_rows if r["book_settings"]), None)
        eager, compiled = torch_by_kind.get("pytorch-eager"), torch_by_kind.get("pytorch-compiled")
        summary[cell] = {
            "flops_per_sample": flops,
            "best_pytorch": best_torch.name if best_torch else None,
            "best_pytorch_samples_per_s": best_torch.median_rate if best_torch else None,
            "pytorch_compile_setup_s": compiled.setup_seconds if compiled else None,
            "best_keras": best_keras["variant"], "best_keras_vs_best_pytorch": best_keras["vs_best_pytorch"],
            "book_settings": book["variant"] if book else None,
            "book_vs_best_pytorch": book["vs_best_pytorch"] if book else None,
        }
        if eager and compiled:
            summary[cell]["compiled_vs_eager_pytorch"] = paired_ratio(compiled.rates, eager.rates)
    return rows, summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main("throughput", __doc__, run, argv)


def run(tiny: bool, out: Path, torch_module: Any = None) -> dict[str, Any]:
    quiet_tensorflow()
    has_torch = torch_module is not None or torch_available()
    if has_torch and torch_module is None:
        import torch as torch_module
    notes = []
    if not has_torch:
        notes.append("PyTorch is not installed: only Keras was timed (`make bench` installs it from "
                      "requirements-bench.txt).")
        log("throughput: " + notes[-1])
    threads = match_threads(torch_module)
    if tiny:
        # One Keras contender per kind of code path and eager PyTorch (torch.compile takes close to
        # a minute per model: its own unit test covers it): the harness end to end in seconds.
        settings = {"batch": 8, "units": 8, "steps": STEPS, "repeats": 2, "batches_per_repeat": {c: 2 for c in CELLS},
                    "gemm_seconds": 0.01}
        variant_filter, compiled = _tiny_variants, False
        notes.append("tiny run: torch.compile not timed")
    else:
        # About one second per turn for each contender on a 2-core CPU.
        settings = {"batch": 150, "units": UNITS, "steps": STEPS, "repeats": 9,
                    "batches_per_repeat": {"simple": 80, "lstm": 30, "gru": 40}, "gemm_seconds": 0.5}
        variant_filter, compiled = _all_variants, True
    started = time.perf_counter()
    rows, summary = measure(CELLS, settings["batches_per_repeat"], settings["batch"], settings["repeats"],
                            settings["units"], settings["steps"], variant_filter, torch_module, with_torch=has_torch,
                            torch_compiled=compiled)
    units, batch = settings["units"], settings["batch"]
    shapes = [(2048, 2048, 2048) if not tiny else (64, 64, 64)]
    shapes += [(batch, INPUTS + units, GATES[cell] * units) for cell in CELLS]
    gemm = gemm_gflops(shapes, settings["gemm_seconds"], torch_module if has_torch else None)
    workload = {cell: gemm[1 + k] for k, cell in enumerate(CELLS)}
    for row in rows:  # each rate against its framework's speed on the workload's matrix shape
        peak = workload[row["cell"]].get(f"{'pytorch' if row['framework'] == 'pytorch' else 'tensorflow'}_gflops")
        row["share_of_gemm"] = row["gflops"] / peak if peak else None
    summary["limit"] = {"gemm": gemm, "large_shape": gemm[0]["shape"],
                        "workload_shapes": {cell: workload[cell]["shape"] for cell in CELLS}}
    settings.update({"inputs": INPUTS, "optimizer": "Adam 1e-3", "threads": threads,
                     "keras_data": "fit on the book's array_dataset (tf.data autotuner off), built once",
                     "pytorch_data": "the same batches, pre-sliced tensors",
                     "measure": "median of interleaved turns; ratios: median of per-turn ratios, "
                                "95 % bootstrap interval over turns",
                     "flops_per_sample": "3 × (steps × 2·gates·units·(inputs + units) + 2·units·classes)",
                     "seconds": time.perf_counter() - started})
    path = write_results("throughput", out, tiny=tiny, settings=settings, rows=rows, summary=summary, notes=notes)
    print(format_table(["cell", "contender", "samples/s", "min", "max", "× best PyTorch", "low", "high", "set-up s"],
                       [[r["cell"], r["variant"], r["samples_per_s"], r["min"], r["max"],
                         *((r["vs_best_pytorch"] or {}).get(k) for k in ("median", "low", "high")), r["setup_s"]]
                        for r in rows]))
    print(format_table(["shape", "TensorFlow GFLOP/s", "PyTorch GFLOP/s"],
                       [[g["shape"], g["tensorflow_gflops"], g.get("pytorch_gflops")] for g in gemm]))
    print(f"wrote {path}")
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    main()
