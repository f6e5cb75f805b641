"""Deep RNNs, across devices · 深度RNN / 使用多个GPU分布计算: the code the chapter defines and others reuse.

Generated from chapters/05_deep_rnn_devices.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/05_deep_rnn_devices.ipynb, cell 3
import collections
from typing import Any, Callable, Sequence

import keras
import tensorflow as tf
from keras import ops


def split_cpu(n_devices: int) -> list[str]:
    """Split the physical CPU into `n_devices` logical devices; return their names.

    Must run before TensorFlow initialises its devices (before the first op), as TF allows
    the split only once per process. Calling it again with the same count is harmless.
    """
    if not isinstance(n_devices, int) or n_devices < 1:
        raise ValueError(f"n_devices must be a positive integer, not {n_devices!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != n_devices:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n_devices)])
        except RuntimeError as error:  # TF already initialised with another split
            raise RuntimeError(f"cannot split the CPU into {n_devices} devices now: {error}; "
                               "call split_cpu before any TensorFlow op runs") from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def available_devices() -> list[str]:
    """Names of the logical devices TensorFlow can place ops on, e.g. '/device:CPU:1'."""
    return [device.name for device in tf.config.list_logical_devices()]


def check_device(name: str) -> str:
    """The canonical name of device `name` (e.g. '/cpu:1' -> '/device:CPU:1').

    Raises ValueError for a malformed name or a device this process does not have, instead
    of TensorFlow's silent soft placement elsewhere (or a late error inside a training loop).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a device name must be a non-empty string, not {name!r}")
    try:
        spec = tf.DeviceSpec.from_string(name.strip())
    except (ValueError, TypeError) as error:
        raise ValueError(f"malformed device name {name!r}: {error}") from None
    if spec.device_type is None:
        raise ValueError(f"device name {name!r} names no device type; use e.g. '/cpu:0' or '/gpu:0'")
    index = 0 if spec.device_index is None else spec.device_index
    canonical = f"/device:{spec.device_type.upper()}:{index}"
    known = available_devices()
    if canonical not in known:
        raise ValueError(f"unknown device {name!r}: this process has {', '.join(known)}")
    return canonical


def short_device(device: str) -> str:
    """'/job:localhost/replica:0/task:0/device:CPU:1' -> 'CPU:1' ('' stays '')."""
    return device.rsplit("device:", 1)[-1] if device else ""


# chapters/05_deep_rnn_devices.ipynb, cell 10
class CellWrapper(keras.layers.Layer):
    """Base of the book's cell wrappers: holds one Keras RNN cell and shows ``keras.layers.RNN``
    its state and output sizes; subclasses change how the cell is built or called.

    The cell is saved with the wrapper, without its build config, so that a loaded wrapper
    builds it again in its own ``build`` (where the device wrapper places the weights).
    """

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


@keras.saving.register_keras_serializable(package="rnnbook")
class DeviceCellWrapper(CellWrapper):
    """Run an RNN cell, and create its variables, on one device: the source's TF1
    ``DeviceCellWrapper`` for Keras 3, where ``build`` (the weights) and every step of
    ``call`` (the ops) run under ``tf.device``."""

    def __init__(self, cell: keras.layers.Layer, device: str, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self.device = check_device(device)

    def build(self, input_shape: Any) -> None:
        with tf.device(self.device):
            super().build(input_shape)

    def get_initial_state(self, batch_size: Any = None) -> Any:
        with tf.device(self.device):
            return super().get_initial_state(batch_size)

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        with tf.device(self.device):
            return self.cell(inputs, states, training=training)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "device": self.device}


def device_stacked_rnn(units: Sequence[int], devices: Sequence[str],
                       cell_factory: Callable[[int], keras.layers.Layer] = keras.layers.GRUCell,
                       **rnn_kwargs: Any) -> keras.layers.RNN:
    """One RNN layer whose stacked cells run on `devices` (one per layer)."""
    if len(units) != len(devices):
        raise ValueError(f"{len(units)} layers but {len(devices)} devices: give one device per layer")
    cells = [DeviceCellWrapper(cell_factory(n), device) for n, device in zip(units, devices)]
    return keras.layers.RNN(keras.layers.StackedRNNCells(cells), **rnn_kwargs)


# chapters/05_deep_rnn_devices.ipynb, cell 12
def variable_devices(model: keras.Model) -> list[tuple[str, str, tuple[int, ...]]]:
    """(variable path, device, shape) of every weight of `model`, from the TF variables."""
    rows = []
    for weight in model.weights:
        variable = getattr(weight, "value", weight)  # the tf.Variable behind a Keras variable
        rows.append((weight.path, short_device(variable.device), tuple(weight.shape)))
    return rows


def traced_op_devices(function: Callable[..., Any], *input_specs: tf.TensorSpec) -> dict[str, collections.Counter]:
    """Requested device of every op in the traced graph of `function`, loop bodies included.

    Returns {device: Counter(op type -> count)}. The RNN loop (``tf.while_loop``) lives in
    nested functions of the graph's library, so those are walked too; an op with no
    device request is listed under '(unassigned)'.
    """
    concrete = tf.function(function).get_concrete_function(*input_specs)
    graph_def = concrete.graph.as_graph_def()
    nodes = list(graph_def.node)
    for library_function in graph_def.library.function:
        nodes.extend(library_function.node_def)
    by_device: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for node in nodes:
        by_device[short_device(node.device) or "(unassigned)"][node.op] += 1
    return dict(by_device)


# chapters/05_deep_rnn_devices.ipynb, cell 18
@keras.saving.register_keras_serializable(package="rnnbook")
class ConcatenatedStateCells(keras.layers.Layer):
    """Stacked cells whose whole state is ONE tensor: TF1's ``MultiRNNCell(state_is_tuple=False)``.

    Each step splits the state into the cells' parts and concatenates their new states
    again. A tensor lives on one device, so with cells on several devices every step copies
    each layer's state to wherever the concatenation runs, and back: the reason TF1 warned
    against it. Kept to show that cost; use ``StackedRNNCells`` (a tuple of states).
    """

    def __init__(self, cells: Sequence[keras.layers.Layer], **kwargs: Any):
        super().__init__(**kwargs)
        self.stack = keras.layers.StackedRNNCells(list(cells))
        self._sizes = [int(size) for size in tf.nest.flatten(self.stack.state_size)]

    @property
    def state_size(self) -> int:
        return sum(self._sizes)

    @property
    def output_size(self) -> Any:
        return self.stack.output_size

    def build(self, input_shape: Any) -> None:
        self.stack.build(input_shape)
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        state = states[0] if isinstance(states, (list, tuple)) else states
        parts = tf.split(state, self._sizes, axis=-1)
        output, new_states = self.stack(inputs, tf.nest.pack_sequence_as(self.stack.state_size, parts),
                                        training=training)
        return output, [tf.concat(tf.nest.flatten(new_states), axis=-1)]
