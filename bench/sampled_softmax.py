"""Benchmark 4: a training step with the full softmax against ``tf.nn.sampled_softmax_loss``.

A GRU decoder-like step: target-side token ids (batch 64, 10 steps) -> Embedding(vocab, 256)
-> GRU(256, every step) -> output layer over the vocabulary, Adam. The full loss computes
all ``vocab`` logits of every step; the sampled loss computes the true class and 64 classes
drawn from a log-uniform (Zipf) distribution. Both steps update every variable with Adam,
including its dense update of the whole output and embedding matrices, so the speed-up is what
a training loop gets, not what the loss alone gets. The same two steps with plain SGD, which
updates only the rows a sparse gradient touches, measure what Adam's dense updates cost.

    python -m bench.sampled_softmax [--tiny] [--out DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

LOSSES = ("full", "sampled")
OPTIMIZERS = ("adam", "sgd")


class Decoder:
    """Embedding -> GRU -> output weights (vocab x units) and biases, shared by both losses."""

    def __init__(self, vocab: int, units: int, seed: int = 0):
        import keras

        keras.utils.set_random_seed(seed)
        self.embedding = keras.layers.Embedding(vocab, units)
        self.gru = keras.layers.GRU(units, return_sequences=True)
        self.out_weights = keras.Variable(keras.initializers.GlorotUniform()((vocab, units)), name="out_weights")
        self.out_biases = keras.Variable(np.zeros(vocab, np.float32), name="out_biases")
        self.vocab, self.units = vocab, units
        self.hidden(np.zeros((1, 1), np.int32))  # build the layers eagerly, outside any tf.function

    def hidden(self, tokens):
        return self.gru(self.embedding(tokens))

    @property
    def variables(self) -> list:
        return [*self.embedding.trainable_weights, *self.gru.trainable_weights, self.out_weights, self.out_biases]


def make_step(decoder: Decoder, loss: str, num_sampled: int, optimizer: str = "adam"):
    """A compiled training step (tokens, targets) -> loss, for the full or the sampled softmax,
    with Adam (dense moment updates of every row) or SGD (sparse gradients update touched rows)."""
    import keras
    import tensorflow as tf

    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}")
    optimizer = keras.optimizers.Adam(1e-3) if optimizer == "adam" else keras.optimizers.SGD(1e-3)

    @tf.function
    def step(tokens, targets):
        with tf.GradientTape() as tape:
            hidden = tf.reshape(decoder.hidden(tokens), [-1, decoder.units])
            labels = tf.reshape(targets, [-1])
            if loss == "full":
                logits = tf.matmul(hidden, decoder.out_weights, transpose_b=True) + decoder.out_biases
                value = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
            else:
                value = tf.reduce_mean(tf.nn.sampled_softmax_loss(
                    weights=decoder.out_weights, biases=decoder.out_biases,
                    labels=tf.cast(labels[:, None], tf.int64), inputs=hidden,
                    num_sampled=num_sampled, num_classes=decoder.vocab))
        variables = decoder.variables
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))
        return value

    return step


def loss_contender(loss: str, vocab: int, batch: int, steps: int, units: int, num_sampled: int,
                   iterations: int, seed: int = 0, optimizer: str = "adam") -> Contender:
    decoder = Decoder(vocab, units, seed)
    step = make_step(decoder, loss, num_sampled, optimizer)
    rng = np.random.default_rng(seed)
    # Zipf-like token ids, as text has (and as the sampler assumes).
    tokens = np.minimum(rng.zipf(1.2, (iterations, batch, steps + 1)) - 1, vocab - 1).astype(np.int32)

    def run() -> int:
        value = None
        for k in range(iterations):
            value = step(tokens[k, :, :-1], tokens[k, :, 1:])
        float(value)
        return iterations

    return Contender(loss if optimizer == "adam" else f"{loss}, {optimizer}", run)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main("sampled_softmax", __doc__, run, argv)


def run(tiny: bool, out: Path) -> dict[str, Any]:
    quiet_tensorflow()
    if tiny:
        settings = {"vocabularies": [200], "batch": 4, "steps": 3, "units": 8, "num_sampled": 5,
                    "repeats": 2, "iterations": 2}
    else:
        settings = {"vocabularies": [5000, 20000, 50000], "batch": 64, "steps": 10, "units": 256,
                    "num_sampled": 64, "repeats": 9, "iterations": 5}
    rows, summary = [], {}
    for vocab in settings["vocabularies"]:
        contenders = {(loss, optimizer): loss_contender(loss, vocab, settings["batch"], settings["steps"],
                                                        settings["units"], settings["num_sampled"],
                                                        settings["iterations"], optimizer=optimizer)
                      for optimizer in OPTIMIZERS for loss in LOSSES}
        log(f"sampled softmax: vocabulary {vocab}, {settings['repeats']} repeats of {settings['iterations']} steps")
        alternate(list(contenders.values()), settings["repeats"], progress=log)
        ms = {key: 1000 * c.median_seconds / settings["iterations"] for key, c in contenders.items()}
        for (loss, optimizer), contender in contenders.items():
            low, high = spread(1000 * s / settings["iterations"] for s in contender.seconds)
            rows.append({"vocabulary": vocab, "loss": loss, "optimizer": optimizer, "ms_per_step": ms[loss, optimizer],
                         "min": low, "max": high, "setup_s": contender.setup_seconds})
        seconds = {key: c.seconds for key, c in contenders.items()}
        summary[str(vocab)] = {
            "full_ms": ms["full", "adam"], "sampled_ms": ms["sampled", "adam"],
            "full_sgd_ms": ms["full", "sgd"], "sampled_sgd_ms": ms["sampled", "sgd"],
            # time ratios over paired turns: above 1, the second step is faster
            "speedup": paired_ratio(seconds["full", "adam"], seconds["sampled", "adam"]),
            "speedup_sgd": paired_ratio(seconds["full", "sgd"], seconds["sampled", "sgd"]),
            "adam_over_sgd_full": paired_ratio(seconds["full", "adam"], seconds["full", "sgd"]),
            "adam_over_sgd_sampled": paired_ratio(seconds["sampled", "adam"], seconds["sampled", "sgd"]),
        }
    settings.update({"model": "Embedding -> GRU (every step) -> output layer over the vocabulary, Adam 1e-3 "
                              "(and SGD 1e-3 to isolate Adam's dense updates)",
                     "speedup": "full-softmax step time / sampled-softmax step time, median of per-turn ratios "
                                "with a 95 % bootstrap interval over turns"})
    path = write_results("sampled_softmax", out, tiny=tiny, settings=settings, rows=rows, summary=summary)
    print(format_table(["vocabulary", "full ms", "sampled ms", "speed-up", "low", "high", "full SGD ms",
                        "sampled SGD ms", "Adam/SGD sampled"],
                       [[int(k), v["full_ms"], v["sampled_ms"], v["speedup"]["median"], v["speedup"]["low"],
                         v["speedup"]["high"], v["full_sgd_ms"], v["sampled_sgd_ms"],
                         v["adam_over_sgd_sampled"]["median"]] for k, v in summary.items()]))
    print(f"wrote {path}")
    return {"rows": rows, "summary": summary}


if __name__ == "__main__":
    main()
