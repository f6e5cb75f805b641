"""The benchmark harness: a tiny run of the whole suite, the pieces it is built from, the committed results.

The tiny run proves that every benchmark runs end to end and writes what the Performance page
reads; its timings mean nothing. PyTorch is optional (requirements-bench.txt): where it is not
installed, its part of the harness is still exercised with a stand-in module (FakeTorch below),
and the one test that needs the real library says why it is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from bench import common, plots, throughput
from utils.paths import REPO_ROOT as REPO

NAMES = ("throughput", "projection", "time_to_accuracy", "sampled_softmax", "book_times")
HAS_TORCH = throughput.torch_available()


def _extension():
    spec = importlib.util.spec_from_file_location("rnnbook_bench", REPO / "book" / "_ext" / "rnnbook_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--out", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_tiny_run_writes_every_results_file_with_the_machine(tiny_results):
    for name in NAMES:
        record = json.loads((tiny_results / f"{name}.json").read_text())
        assert record["name"] == name and record["tiny"] is True
        assert record["rows"] and record["summary"]
        machine = record["machine"]
        assert machine["cores"] >= 1 and machine["cpu"] and machine["libraries"]["keras"]
        assert "tensorflow-cpu" in machine["libraries"] or "tensorflow" in machine["libraries"]


def test_tiny_throughput_times_keras_and_says_what_happened_to_pytorch(tiny_results):
    record = json.loads((tiny_results / "throughput.json").read_text())
    frameworks = {(r["cell"], r["framework"]) for r in record["rows"]}
    assert {(c, "keras") for c in throughput.CELLS} <= frameworks
    assert all(r["samples_per_s"] > 0 and r["gflops"] > 0 for r in record["rows"])
    book = [r for r in record["rows"] if r["book_settings"]]
    assert len(book) == 1 and book[0]["variant"].startswith("Keras: the book's settings (")
    gemm = record["summary"]["limit"]["gemm"]
    assert len(gemm) == 1 + len(throughput.CELLS) and all(g["tensorflow_gflops"] > 0 for g in gemm)
    if HAS_TORCH:
        assert {(c, "pytorch") for c in throughput.CELLS} <= frameworks
        assert record["machine"]["libraries"]["torch"]
        assert record["settings"]["threads"]["pytorch"] == record["settings"]["threads"]["cores"]
        for cell in throughput.CELLS:
            ratio = record["summary"][cell]["best_keras_vs_best_pytorch"]
            assert 0 < ratio["low"] <= ratio["median"] <= ratio["high"]
        assert all(g["pytorch_gflops"] > 0 for g in gemm)
        assert all(r["share_of_gemm"] > 0 for r in record["rows"])
    else:
        assert not any(f == "pytorch" for _, f in frameworks)
        assert any("PyTorch is not installed" in note for note in record["notes"])


def test_tiny_results_feed_the_plots_and_the_page(tiny_results):
    figures = tiny_results / "figures"
    extension = _extension()
    for name in NAMES:
        results, png = tiny_results / f"{name}.json", figures / f"{name}.png"
        assert png.stat().st_size <= 100 * 1024
        assert plots.png_text(png)[plots.DIGEST_KEY] == plots.results_digest(results)
        assert extension._png_text(png)[extension.DIGEST_KEY] == plots.results_digest(results)
        nodes = extension.BUILDERS[name](json.loads(results.read_text()))
        assert nodes and all(node.astext() for node in nodes)


def test_tiny_time_to_accuracy_reports_targets_not_reached(tiny_results):
    record = json.loads((tiny_results / "time_to_accuracy.json").read_text())
    assert {r["recipe"] for r in record["rows"]} == {"source", "book"}
    for row in record["rows"]:  # random labels: nothing is reached, and it says so
        assert row["seconds_to_97.5"] is None and row["seconds_to_98"] is None
        assert row["curve"] and 0 <= row["best_test_accuracy"] <= 1


# ----------------------------------------------------------------------------- the pieces

def test_alternate_interleaves_rotates_and_takes_medians():
    order = []

    def make(name):
        def run():
            order.append(name)
            return 10
        return common.Contender(name, run)

    contenders = [make(n) for n in "ABC"]
    common.alternate(contenders, repeats=3, warmup=1)
    assert order == list("ABC") + list("ABC") + list("BCA") + list("CAB")  # warm-ups, then rotated turns
    assert all(len(c.seconds) == 3 and c.samples == [10, 10, 10] for c in contenders)
    contenders[0].seconds = [1.0, 4.0, 2.0]
    assert contenders[0].median_rate == 5.0 and contenders[0].median_seconds == 2.0
    with pytest.raises(ValueError):
        common.alternate(contenders, repeats=0)
    with pytest.raises(ValueError):
        common.alternate([], repeats=1)


def test_results_are_small_rounded_json(tmp_path):
    path = common.write_results("x", tmp_path, tiny=True, settings={"a": 1}, rows=[{"v": 1 / 3}],
                                summary={"s": 123456.789}, machine={"cpu": "test"})
    record = json.loads(path.read_text())
    assert record["rows"][0]["v"] == 0.3333 and record["summary"]["s"] == 123500.0


def test_each_machine_keeps_its_own_results(tmp_path):
    for machine_id, speed in (("a", 1.0), ("b", 2.0)):
        common.write_results("x", tmp_path, tiny=False, settings={}, rows=[], summary={"speed": speed},
                             machine={"cpu": "test", "id": machine_id})
    assert json.loads((tmp_path / "x.json").read_text())["summary"]["speed"] == 2.0  # the newest run
    kept = {p.parent.name: json.loads(p.read_text())["summary"]["speed"] for p in tmp_path.glob("machines/*/x.json")}
    assert kept == {"a": 1.0, "b": 2.0}
    assert "load_average_1m_end" in json.loads((tmp_path / "machines" / "a" / "x.json").read_text())["machine"]


def test_the_machine_record_knows_the_fp32_peak_of_known_processors():
    assert common.flops_per_cycle("AuthenticAMD", 25, 17) == 32  # Zen 4: two 256-bit FMA pipes
    assert common.flops_per_cycle("AuthenticAMD", 26, 2) == 64
    assert common.flops_per_cycle("GenuineIntel", 6, 143) is None  # unknown: no peak claimed
    machine = common.describe_machine()
    assert len(machine["id"]) == 10 and machine["id"] == common.machine_id()


def test_a_verdict_across_machines_holds_only_where_all_agree():
    ext = _extension()
    assert ext.across_machines_verdict(["faster", "faster"]) == "faster on every machine measured (2)"
    assert ext.across_machines_verdict(["faster", "no measurable difference"]) == (
        "depends on the machine: faster on 1, no measurable difference on 1")
    quiet = {"id": "q", "cpu": "C", "cores": 2, "date": "2026-12-04 00:00 UTC", "load_average_1m": 0.2,
             "cpu_mhz": 2600, "fp32_flops_per_cycle": 32}
    busy = {**quiet, "id": "b", "load_average_1m": 3.0, "load_average_1m_end": 2.5}
    summary = {"simple": {"book_vs_best_pytorch": {"median": 2.0, "low": 1.5, "high": 2.2}},
               "limit": {"gemm": [{"tensorflow_gflops": 200.0, "pytorch_gflops": 180.0}]}}
    slow = {"simple": {"book_vs_best_pytorch": {"median": 0.9, "low": 0.8, "high": 1.1}}, "limit": summary["limit"]}
    nodes_out = ext._throughput_across([{"machine": quiet, "summary": summary}, {"machine": busy, "summary": slow}])
    text = " ".join(n.astext() for n in nodes_out)
    assert "under load" in text and "166 at 2.60 GHz" in text and "3.12 GHz" in text
    assert "SimpleRNN: depends on the machine: faster on 1, no measurable difference on 1." in text


@pytest.mark.parametrize("cell,layer", [("simple", "SimpleRNN"), ("lstm", "LSTM"), ("gru", "GRU")])
def test_hoisted_layer_computes_what_the_keras_layer_computes(cell, layer):
    import keras

    from bench.tf_rnn import HoistedRNN

    x = np.random.default_rng(0).random((3, 5, 4), dtype=np.float32)
    reference = getattr(keras.layers, layer)(6)
    reference(x)
    hoisted = HoistedRNN(cell, 6)
    hoisted(x)
    weights = reference.get_weights()
    if cell == "gru":  # Keras keeps the GRU's two biases in one (2, 3*units) array
        weights = [weights[0], weights[1], weights[2][0], weights[2][1]]
    hoisted.set_weights(weights)
    np.testing.assert_allclose(hoisted(x).numpy(), reference(x).numpy(), rtol=1e-5, atol=1e-6)


def test_fused_lstm_trains():
    import tensorflow as tf

    from bench.tf_rnn import FusedLSTM, HoistedRNN

    layer = FusedLSTM(6)
    x = np.random.default_rng(0).random((3, 5, 4), dtype=np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    gradients = tape.gradient(loss, layer.trainable_weights)
    assert layer(x).shape == (3, 6) and all(float(tf.reduce_sum(tf.abs(g))) > 0 for g in gradients)
    with pytest.raises(ValueError, match="cell must be"):
        HoistedRNN("peephole", 4)
    with pytest.raises(ValueError, match="units"):
        FusedLSTM(0)


class FakeTorch(types.ModuleType):
    """Just enough of torch's interface for the harness: layers that compute something with NumPy,
    an optimizer that counts steps. It tests the harness's wiring, not PyTorch."""

    __version__ = "fake"

    def __init__(self):
        super().__init__("torch")
        self.steps = 0
        fake = self

        class Module:
            def parameters(self):
                return []

            def __call__(self, *args):
                return self.forward(*args)

        class Recurrent(Module):
            def __init__(self, inputs, units, batch_first):
                assert batch_first
                self.weights = np.full((inputs, units), 0.01, np.float32)

            def forward(self, x):
                return np.tanh(x @ self.weights), None

        class Linear(Module):
            def __init__(self, inputs, outputs):
                self.weights = np.full((inputs, outputs), 0.01, np.float32)

            def forward(self, x):
                return x @ self.weights

        class Loss:
            def __call__(self, logits, labels):
                assert len(logits) == len(labels)
                return types.SimpleNamespace(backward=lambda: None)

        class Adam:
            def __init__(self, parameters, lr):
                pass

            def zero_grad(self):
                pass

            def step(self):
                fake.steps += 1

        self.nn = types.SimpleNamespace(Module=Module, RNN=Recurrent, LSTM=Recurrent, GRU=Recurrent, Linear=Linear,
                                        CrossEntropyLoss=Loss)
        self.optim = types.SimpleNamespace(Adam=Adam)
        self.manual_seed = lambda seed: None
        self.from_numpy = lambda array: array


def test_pytorch_part_of_the_harness_with_a_stand_in():
    fake = FakeTorch()
    rows, summary = throughput.measure(("gru",), {"gru": 3}, batch=4, repeats=2, units=5, steps=3,
                                       variant_filter=lambda cell, v: v.label.startswith("Keras defaults"),
                                       torch_module=fake, torch_compiled=False)
    assert fake.steps == 3 * (1 + 2)  # warm-up turn + two timed turns, three batches each
    pytorch = [r for r in rows if r["framework"] == "pytorch"]
    assert len(pytorch) == 1 and pytorch[0]["variant"].endswith("fake: eager")
    assert pytorch[0]["vs_best_pytorch"] == {"median": 1.0, "low": 1.0, "high": 1.0}
    keras_row = next(r for r in rows if r["framework"] == "keras")
    ratio = keras_row["vs_best_pytorch"]
    assert ratio["low"] <= ratio["median"] <= ratio["high"]
    assert summary["gru"]["best_keras_vs_best_pytorch"] == ratio
    assert summary["gru"]["flops_per_sample"] == throughput.flops_per_sample("gru", 5, 3)


def test_paired_ratio_and_the_pages_verdict():
    verdict = _extension()._verdict
    faster = common.paired_ratio([2.0, 2.2, 1.9, 2.1, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0])
    assert faster["median"] == 2.0 and 1.9 <= faster["low"] <= faster["median"] <= faster["high"] <= 2.2
    assert verdict(faster) == "faster"
    assert verdict(common.paired_ratio([1, 1, 1], [2, 2, 2])) == "slower"
    even = common.paired_ratio([0.9, 1.1, 1.0, 0.95, 1.05], [1, 1, 1, 1, 1])
    assert verdict(even) == "no measurable difference"
    with pytest.raises(ValueError):
        common.paired_ratio([1.0, 2.0], [1.0])


def test_flops_per_sample_counts_the_products():
    # SimpleRNN(150) on 28 × 28: 3 × (28 · 2 · 150 · 178 + 2 · 150 · 10)
    assert throughput.flops_per_sample("simple") == 3 * (28 * 2 * 150 * 178 + 2 * 150 * 10)
    assert throughput.flops_per_sample("lstm") > 3.9 * throughput.flops_per_sample("simple")


def test_rows_labelled_the_books_settings_are_what_chapter_2_trains():
    """The throughput row and the time-to-accuracy model marked as the book's must be compiled as
    chapter 2's train_classifier compiles its models (XLA kept, steps per call, unroll, optimizer)."""
    from bench import time_to_accuracy
    from chapter_code.ch02_mnist_rnn import Recipe, train_classifier
    from utils.training import JIT_COMPILE

    def settings(model):
        optimizer = model.optimizer.get_config()
        return (model.jit_compile, model.steps_per_execution,
                [(type(layer).__name__, getattr(layer, "unroll", None)) for layer in model.layers],
                type(model.optimizer).__name__, optimizer["clipnorm"])

    x, y = throughput.random_mnist_shaped(16)
    for cell in ("simple", "lstm"):  # an unrolled layer and a looped one
        recipe = Recipe(cell=cell, units=4, batch_size=8)
        chapter = train_classifier(recipe, x, y, x[:4], y[:4], epochs=1).model
        assert chapter.jit_compile == JIT_COMPILE  # Keras kept XLA: nothing turned on op determinism
        variant = next(v for v in throughput.keras_variants(cell) if v.book)
        bench_model = throughput.compiled_keras_model(cell, variant, units=4, batch=8)
        assert settings(bench_model) == settings(chapter)
        contender = throughput.keras_contender(cell, variant, x, y, batch=8, units=4)
        assert contender.name == f"Keras: the book's settings ({throughput.describe_settings(chapter)})"
        assert ("no XLA" in contender.name) != chapter.jit_compile
    book_recipe = Recipe(**time_to_accuracy.RECIPES["book"], units=4, batch_size=8)
    chapter = train_classifier(book_recipe, x, y, x[:4], y[:4], epochs=1).model
    assert settings(time_to_accuracy.compiled_classifier(book_recipe, 1, len(x))) == settings(chapter)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed: `make bench` installs it from "
                                            "requirements-bench.txt; the stand-in test above covers the harness")
def test_pytorch_classifiers_train_for_real():
    import torch

    x, y = throughput.random_mnist_shaped(8, steps=3)
    for cell in throughput.CELLS:
        contender = throughput.torch_contender(cell, x, y, batch=4, units=5)
        assert contender.run() == 8
    assert torch.get_num_threads() >= 1
    # torch.compile's path for the LSTM: allow_rnn, and oneDNN off around the compiled model
    compiled = throughput.torch_contender("lstm", x, y, batch=4, units=5, compiled=True)
    assert compiled.name.endswith("torch.compile (oneDNN off)") and compiled.run() == 8


# ----------------------------------------------------------------------------- committed results

def test_committed_results_are_real_runs_with_matching_plots():
    for name in NAMES:
        results = REPO / "bench" / "results" / f"{name}.json"
        png = plots.FIGURES_DIR / f"{name}.png"
        assert results.exists(), f"{results.name} missing: run `make bench`"
        record = json.loads(results.read_text())
        assert record["tiny"] is False, f"{results.name} comes from a --tiny run"
        assert results.stat().st_size <= 64 * 1024
        assert png.stat().st_size <= 100 * 1024
        assert plots.png_text(png).get(plots.DIGEST_KEY) == plots.results_digest(results), \
            f"{png.name} was drawn from other results: run `python -m bench.plots`"


def test_the_projection_page_says_where_the_difference_comes_from():
    """The committed projection results time both heads with and without XLA, and the page turns
    them into growth exponents: the stacked head's super-linear growth under XLA is the reversal."""
    record = json.loads((REPO / "bench" / "results" / "projection.json").read_text())
    assert all("no_xla" in entry for entry in record["summary"].values())
    text = " ".join(node.astext() for node in _extension()._projection(record))
    assert "Where the difference comes from." in text and "without XLA, like T^" in text
    assert _extension()._growth_exponent({10: 1.0, 20: 4.0}) == pytest.approx(2.0)
