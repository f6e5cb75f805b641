"""The common part of the book's RNN cell wrappers (device placement, dropout).

A wrapper holds one Keras cell and exposes it to ``keras.layers.RNN`` with the same state and
output sizes; subclasses change how the cell is built or called. The cell is saved with the
wrapper, without its build config, so that a loaded wrapper builds it again in its own
``build`` (where a device wrapper, for one, places the weights).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


class CellWrapper(keras.layers.Layer):
    """Base class: wraps an RNN cell (anything with ``call`` and ``state_size``)."""

    def __init__(self, cell: keras.layers.Layer, **kwargs: Any):
        super().__init__(**kwargs)
        if not hasattr(cell, "state_size") or not callable(getattr(cell, "call", None)):
            raise TypeError(f"{type(cell).__name__} is not an RNN cell (it needs call() and state_size)")
        self.cell = cell

    @property
    def state_size(self) -> Any:
        return self.cell.state_size

    @property
    def output_size(self) -> Any:
        return getattr(self.cell, "output_size", None) or self.cell.state_size

    def build(self, input_shape: Any) -> None:
        if not self.cell.built:
            self.cell.build(input_shape)
        self.built = True

    def get_initial_state(self, batch_size: Any = None) -> Any:
        if hasattr(self.cell, "get_initial_state"):
            return self.cell.get_initial_state(batch_size=batch_size)
        sizes = self.cell.state_size if isinstance(self.cell.state_size, (list, tuple)) else [self.cell.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        return self.cell(inputs, states, training=training)

    def get_config(self) -> dict[str, Any]:
        cell = keras.saving.serialize_keras_object(self.cell)
        cell.pop("build_config", None)  # rebuilt by `build`
        return {**super().get_config(), "cell": cell}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "CellWrapper":
        config = dict(config)
        config["cell"] = keras.saving.deserialize_keras_object(config["cell"])
        return cls(**config)
