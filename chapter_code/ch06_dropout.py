"""Applying dropout · 应用Dropout: the code the chapter defines and others reuse.

Generated from chapters/06_dropout.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/06_dropout.ipynb, cell 5
import numbers
from typing import Any

import keras
from keras import ops

from chapter_code.ch05_deep_rnn_devices import CellWrapper


def dropout(x: Any, keep_prob: float, seed_generator: keras.random.SeedGenerator) -> Any:
    """Zero each entry with probability 1 - keep_prob and scale the rest by 1 / keep_prob."""
    if keep_prob == 1.0:
        return x
    keep = keras.random.uniform(ops.shape(x), seed=seed_generator) < keep_prob
    return ops.where(keep, x / keep_prob, ops.zeros_like(x))


# chapters/06_dropout.ipynb, cell 7
def check_keep_prob(name: str, keep_prob: float) -> float:
    """`keep_prob` as a float, or ValueError unless 0 < keep_prob <= 1."""
    # float() would take "0.5" and True (= 1, keep everything): neither is a probability
    if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real):
        raise ValueError(f"{name} must be a number in (0, 1], not {keep_prob!r}")
    value = float(keep_prob)
    if not 0.0 < value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in (0, 1] (1 keeps everything), not {keep_prob!r}")
    return value


# chapters/06_dropout.ipynb, cell 9
@keras.saving.register_keras_serializable(package="rnnbook")
class DropoutCellWrapper(CellWrapper):
    """Dropout on a cell's inputs, outputs and new state, drawn afresh at every step (TF1's
    default), active only when Keras calls it with ``training=True``.

    ``state_keep_prob`` drops the first part of the new state only: the whole state of a
    SimpleRNN or GRU cell, and ``h`` of Keras's ``[h, c]`` LSTM state. TF1's ``DropoutWrapper``
    (from 1.4) dropped every part of the state except an LSTM's ``c``: the same for every cell
    this book wraps, not for a cell with several states of its own kind.
    """

    def __init__(self, cell: keras.layers.Layer, input_keep_prob: float = 1.0,
                 output_keep_prob: float = 1.0, state_keep_prob: float = 1.0,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self.input_keep_prob = check_keep_prob("input_keep_prob", input_keep_prob)
        self.output_keep_prob = check_keep_prob("output_keep_prob", output_keep_prob)
        self.state_keep_prob = check_keep_prob("state_keep_prob", state_keep_prob)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        if training:
            inputs = dropout(inputs, self.input_keep_prob, self.seed_generator)
        output, new_states = self.cell(inputs, states, training=training)
        if training:
            output = dropout(output, self.output_keep_prob, self.seed_generator)
            if isinstance(new_states, (list, tuple)):
                new_states = [dropout(new_states[0], self.state_keep_prob, self.seed_generator),
                              *new_states[1:]]
            else:
                new_states = dropout(new_states, self.state_keep_prob, self.seed_generator)
        return output, new_states

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_keep_prob": self.input_keep_prob,
                "output_keep_prob": self.output_keep_prob, "state_keep_prob": self.state_keep_prob,
                "seed": self.seed}


# chapters/06_dropout.ipynb, cell 11
@keras.saving.register_keras_serializable(package="rnnbook")
class PassThroughCell(keras.layers.Layer):
    """A weightless cell whose output is its input (state: the previous input): wrapped in
    :class:`DropoutCellWrapper`, its outputs *are* the dropped-out inputs."""

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        return inputs, [inputs]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


# chapters/06_dropout.ipynb, cell 22
def deep_gru_classifier(vocabulary_size: int, embedding_dim: int, units: int, layers: int,
                        keep_prob: float, seed: int = 0) -> keras.Model:
    """Embedding -> `layers` stacked GRU cells, each with input dropout -> one logit, compiled
    with Adam and binary cross-entropy.

    Without XLA, an exception to the book's policy: XLA compiles the wrapper's fresh random mask
    at every step into a slow loop on a CPU (measured here: 1.6-1.8 s per epoch with dropout
    against 0.6-0.8 s without XLA).
    """
    keep_prob = check_keep_prob("keep_prob", keep_prob)
    for name, value, minimum in (("vocabulary_size", vocabulary_size, 2), ("embedding_dim", embedding_dim, 1),
                                 ("units", units, 1), ("layers", layers, 1), ("seed", seed, 0)):
        # layers=0 stacked no cell and ended in an IndexError inside Keras
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    cells = [DropoutCellWrapper(keras.layers.GRUCell(units), input_keep_prob=keep_prob, seed=seed + layer)
             for layer in range(layers)]
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True),
        keras.layers.RNN(keras.layers.StackedRNNCells(cells)),
        keras.layers.Dense(1),
    ])
    model.compile(keras.optimizers.Adam(2e-3), keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")], jit_compile=False)
    return model
