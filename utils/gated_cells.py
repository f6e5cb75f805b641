"""LSTM, peephole LSTM and GRU written from their equations, next to Keras's layers.

The NumPy functions compute equation 14-3 (LSTM) and 14-4 (GRU) of the source in float64
with Keras's weight layout, so that a Keras layer's weights can be passed in unchanged:

* LSTM: ``kernel`` (inputs, 4u), ``recurrent_kernel`` (u, 4u), ``bias`` (4u), gates in the
  order input i, forget f, candidate g (Keras calls it c), output o.
* GRU: gates in the order update z, reset r, candidate g; ``bias`` is (3u,) with
  ``reset_after=False`` and (2, 3u) (input bias, recurrent bias) with ``reset_after=True``.

:class:`PeepholeLSTMCell` is the peephole LSTM of Gers & Schmidhuber (2000) as a Keras 3 cell;
Keras 3 has none.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-x))


def _check_sequence(x: Array, kernel: Array, recurrent_kernel: Array, gates: int) -> tuple[int, int]:
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"inputs must be (batch, steps, features), got shape {x.shape}")
    units = recurrent_kernel.shape[0]
    if kernel.shape != (x.shape[2], gates * units) or recurrent_kernel.shape != (units, gates * units):
        raise ValueError(f"weights do not match: kernel {kernel.shape}, recurrent kernel "
                         f"{recurrent_kernel.shape}, {x.shape[2]} input features, {gates} gates")
    return x.shape[0], units


def lstm_sequence(x: Array, kernel: Array, recurrent_kernel: Array, bias: Array,
                  peepholes: tuple[Array, Array, Array] | None = None) -> tuple[Array, Array, Array]:
    """Equation 14-3 over a batch of sequences; returns (outputs h(t) for all t, h(T), c(T)).

    ``peepholes = (w_ci, w_cf, w_co)`` adds Gers & Schmidhuber's diagonal peephole terms:
    c(t-1) feeds the input and forget gates, c(t) the output gate.
    """
    batch, units = _check_sequence(x, kernel, recurrent_kernel, 4)
    W = [kernel[:, k * units:(k + 1) * units].astype(np.float64) for k in range(4)]
    U = [recurrent_kernel[:, k * units:(k + 1) * units].astype(np.float64) for k in range(4)]
    b = [bias[k * units:(k + 1) * units].astype(np.float64) for k in range(4)]
    w_ci, w_cf, w_co = (np.zeros(units),) * 3 if peepholes is None else (np.asarray(p, np.float64) for p in peepholes)
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    outputs = []
    for x_t in np.asarray(x, np.float64).transpose(1, 0, 2):
        i = sigmoid(x_t @ W[0] + h @ U[0] + w_ci * c + b[0])
        f = sigmoid(x_t @ W[1] + h @ U[1] + w_cf * c + b[1])
        g = np.tanh(x_t @ W[2] + h @ U[2] + b[2])
        c = f * c + i * g
        o = sigmoid(x_t @ W[3] + h @ U[3] + w_co * c + b[3])
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def gru_sequence(x: Array, kernel: Array, recurrent_kernel: Array, bias: Array,
                 reset_after: bool, form: str = "keras") -> tuple[Array, Array]:
    """Equation 14-4 over a batch of sequences; returns (outputs for all t, h(T)).

    ``reset_after=False`` is the textbook candidate, g = tanh(Wx·x + Wh·(r ⊗ h) + b): the reset
    gate acts *before* the product. ``reset_after=True`` (Keras's default, cuDNN's form) applies
    it after: g = tanh(Wx·x + bx + r ⊗ (Wh·h + bh)).

    ``form`` says how z mixes the states. The source (``"textbook"``):
    h(t) = (1 − z) ⊗ h(t−1) + z ⊗ g. Keras (``"keras"``): h(t) = z ⊗ h(t−1) + (1 − z) ⊗ g.
    Each is the other with z's weights and bias negated (σ(−a) = 1 − σ(a)): see
    :func:`keras_gru_to_textbook`.
    """
    if form not in ("keras", "textbook"):
        raise ValueError(f"form must be 'keras' or 'textbook', not {form!r}")
    batch, units = _check_sequence(x, kernel, recurrent_kernel, 3)
    bias = np.asarray(bias, np.float64)
    expected_bias = (2, 3 * units) if reset_after else (3 * units,)
    if bias.shape != expected_bias:
        raise ValueError(f"reset_after={reset_after} needs a bias of shape {expected_bias}, got {bias.shape}")
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))
    W = [kernel[:, k * units:(k + 1) * units].astype(np.float64) for k in range(3)]
    U = [recurrent_kernel[:, k * units:(k + 1) * units].astype(np.float64) for k in range(3)]
    bx = [input_bias[k * units:(k + 1) * units] for k in range(3)]
    bh = [recurrent_bias[k * units:(k + 1) * units] for k in range(3)]
    h = np.zeros((batch, units))
    outputs = []
    for x_t in np.asarray(x, np.float64).transpose(1, 0, 2):
        z = sigmoid(x_t @ W[0] + bx[0] + h @ U[0] + bh[0])
        r = sigmoid(x_t @ W[1] + bx[1] + h @ U[1] + bh[1])
        if reset_after:
            g = np.tanh(x_t @ W[2] + bx[2] + r * (h @ U[2] + bh[2]))
        else:
            g = np.tanh(x_t @ W[2] + bx[2] + (r * h) @ U[2])
        h = z * h + (1 - z) * g if form == "keras" else (1 - z) * h + z * g
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def keras_gru_to_textbook(kernel: Array, recurrent_kernel: Array, bias: Array) -> tuple[Array, Array, Array]:
    """Keras GRU weights -> the weights of the same function in the source's z convention."""
    units = recurrent_kernel.shape[0]
    kernel, recurrent_kernel, bias = (np.array(w, np.float64) for w in (kernel, recurrent_kernel, bias))
    kernel[:, :units] *= -1
    recurrent_kernel[:, :units] *= -1
    bias[..., :units] *= -1
    return kernel, recurrent_kernel, bias


@keras.saving.register_keras_serializable(package="rnnbook")
class PeepholeLSTMCell(keras.layers.Layer):
    """LSTM cell with peephole connections (Gers & Schmidhuber 2000), Keras 3.

    Same weights and gate order as ``keras.layers.LSTMCell`` plus three diagonal peephole
    vectors: ``peephole_input`` and ``peephole_forget`` read c(t−1), ``peephole_output``
    reads c(t). With the peepholes at zero it is exactly ``LSTMCell``.
    """

    def __init__(self, units: int, unit_forget_bias: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer, not {units!r}")
        self.units = units
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape: Any) -> None:
        u = self.units
        self.kernel = self.add_weight((input_shape[-1], 4 * u), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight((u, 4 * u), initializer="orthogonal", name="recurrent_kernel")
        forget_one = self.unit_forget_bias

        def bias_init(shape: Any, dtype: Any = None) -> Any:
            ones_for_forget = np.zeros(shape, "float32")
            if forget_one:  # as Keras's LSTM: start by remembering
                ones_for_forget[u:2 * u] = 1.0
            return ops.convert_to_tensor(ones_for_forget, dtype=dtype)

        self.bias = self.add_weight((4 * u,), initializer=bias_init, name="bias")
        # Small random peepholes: zero would start the cell as a plain LSTM, which is also fine.
        peephole = keras.initializers.RandomUniform(-0.1, 0.1)
        self.peephole_input = self.add_weight((u,), initializer=peephole, name="peephole_input")
        self.peephole_forget = self.add_weight((u,), initializer=peephole, name="peephole_forget")
        self.peephole_output = self.add_weight((u,), initializer=peephole, name="peephole_output")
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
        h_prev, c_prev = states
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
        i = ops.sigmoid(z_i + self.peephole_input * c_prev)
        f = ops.sigmoid(z_f + self.peephole_forget * c_prev)
        c = f * c_prev + i * ops.tanh(z_g)
        o = ops.sigmoid(z_o + self.peephole_output * c)
        h = o * ops.tanh(c)
        return h, [h, c]

    def get_initial_state(self, batch_size: Any = None) -> Any:
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype) for _ in range(2)]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "unit_forget_bias": self.unit_forget_bias}


def adding_problem(n: int, length: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """The adding problem (Hochreiter & Schmidhuber 1997): sum the two marked values.

    Inputs (n, length, 2): a value in [0, 1) and a 0/1 marker; one marker falls in the first
    half, one in the second, so the answer needs a memory of at least length/2 steps.
    """
    if length < 2 or n < 1:
        raise ValueError(f"need n >= 1 and length >= 2, got n={n}, length={length}")
    values = rng.random((n, length))
    markers = np.zeros((n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    y = (values[np.arange(n), first] + values[np.arange(n), second]).astype("float32")
    return x, y[:, None]


def delayed_spike(n: int, length: int, delay: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """A timing task: one input spike at a random step s; the target spikes at exactly s + delay.

    Returns inputs (n, length, 1) and 0/1 targets (n, length, 1). Solving it means counting
    `delay` steps with no input to count on: the kind of timing peepholes were proposed for.
    """
    if not 1 <= delay < length:
        raise ValueError(f"delay must be in [1, length), got delay={delay}, length={length}")
    starts = rng.integers(0, length - delay, n)
    x = np.zeros((n, length, 1), "float32")
    y = np.zeros((n, length, 1), "float32")
    x[np.arange(n), starts, 0] = 1.0
    y[np.arange(n), starts + delay, 0] = 1.0
    return x, y


def spike_timing_accuracy(predicted: Array, target: Array) -> float:
    """Share of sequences whose highest output is at exactly the target's spike step."""
    predicted, target = np.asarray(predicted)[..., 0], np.asarray(target)[..., 0]
    return float(np.mean(predicted.argmax(axis=1) == target.argmax(axis=1)))
