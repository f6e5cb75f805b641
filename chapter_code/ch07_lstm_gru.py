"""LSTM, peephole connections, GRU · LSTM单元 / 窥孔连接 / GRU单元: the code the chapter defines and others reuse.

Generated from chapters/07_lstm_gru.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/07_lstm_gru.ipynb, cell 4
from typing import Any

import keras
import numpy as np
from keras import ops

Array = np.ndarray


def sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-x))


def check_sequence(x: Array, kernel: Array, recurrent_kernel: Array, gates: int) -> tuple[int, int]:
    """(batch, units) of a sequence and the weights of a cell with `gates` gates, or ValueError."""
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
    """Equation 14-3 over a batch of sequences, in float64, with Keras's weight layout (gates
    i, f, g, o side by side); returns (outputs h(t) for all t, h(T), c(T)).

    ``peepholes = (w_ci, w_cf, w_co)`` adds Gers & Schmidhuber's diagonal peephole terms:
    c(t-1) feeds the input and forget gates, c(t) the output gate.
    """
    batch, units = check_sequence(x, kernel, recurrent_kernel, 4)
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


# chapters/07_lstm_gru.ipynb, cell 11
def tf1_lstm_sequence(x: Array, kernel: Array, bias: Array, forget_bias: float = 1.0) -> tuple[Array, Array, Array]:
    """TF1's ``BasicLSTMCell`` over a batch of sequences, as its source computes it: one kernel
    on ``concat([x, h])``, gates split ``i, j, f, o``, ``forget_bias`` added inside the forget
    gate's sigmoid at every step. Returns (outputs, c(T), h(T)): TF1's state order."""
    x = np.asarray(x, np.float64)
    units = kernel.shape[1] // 4
    if kernel.shape != (x.shape[2] + units, 4 * units) or bias.shape != (4 * units,):
        raise ValueError(f"a TF1 LSTM kernel is (inputs + units, 4 units): got {kernel.shape}, bias {bias.shape}")
    c = np.zeros((x.shape[0], units))
    h = np.zeros((x.shape[0], units))
    outputs = []
    for x_t in x.transpose(1, 0, 2):
        i, j, f, o = np.split(np.concatenate([x_t, h], axis=1) @ kernel + bias, 4, axis=1)
        c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        h = np.tanh(c) * sigmoid(o)
        outputs.append(h)
    return np.stack(outputs, axis=1), c, h


def tf1_lstm_to_keras(kernel: Array, bias: Array, n_inputs: int, forget_bias: float = 1.0) -> list[Array]:
    """TF1 ``BasicLSTMCell`` weights -> ``[kernel, recurrent_kernel, bias]`` of a Keras LSTM
    computing the same function: gates reordered (i, j, f, o) -> (i, f, c, o), the one kernel
    split into input and recurrent parts, and `forget_bias` moved into the forget gate's bias."""
    i, j, f, o = np.split(np.asarray(kernel), 4, axis=1)
    b_i, b_j, b_f, b_o = np.split(np.asarray(bias), 4)
    reordered = np.concatenate([i, f, j, o], axis=1)
    return [reordered[:n_inputs], reordered[n_inputs:], np.concatenate([b_i, b_f + forget_bias, b_j, b_o])]


# chapters/07_lstm_gru.ipynb, cell 14
def gru_sequence(x: Array, kernel: Array, recurrent_kernel: Array, bias: Array,
                 reset_after: bool, form: str = "keras") -> tuple[Array, Array]:
    """Equation 14-4 over a batch of sequences, with Keras's weight layout (gates z, r, g side by
    side); returns (outputs for all t, h(T)).

    ``reset_after=False`` is the printed candidate, g = tanh(Wx·x + Wh·(r ⊗ h) + b): the reset
    gate acts *before* the product. ``reset_after=True`` (Keras's default, cuDNN's form) applies
    it after: g = tanh(Wx·x + bx + r ⊗ (Wh·h + bh)).

    ``form`` says how z mixes the states: ``"keras"`` (as TF1's GRUCell too) h = z ⊗ h + (1 − z) ⊗ g;
    ``"textbook"`` (the printed equation) h = (1 − z) ⊗ h + z ⊗ g.
    """
    if form not in ("keras", "textbook"):
        raise ValueError(f"form must be 'keras' or 'textbook', not {form!r}")
    batch, units = check_sequence(x, kernel, recurrent_kernel, 3)
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
    """Keras GRU weights -> the weights of the same function in the printed equation's z
    convention: the update gate's weights and bias negated (σ(−a) = 1 − σ(a))."""
    units = recurrent_kernel.shape[0]
    kernel, recurrent_kernel, bias = (np.array(w, np.float64) for w in (kernel, recurrent_kernel, bias))
    kernel[:, :units] *= -1
    recurrent_kernel[:, :units] *= -1
    bias[..., :units] *= -1
    return kernel, recurrent_kernel, bias


# chapters/07_lstm_gru.ipynb, cell 19
def tf1_gru_sequence(x: Array, gate_kernel: Array, gate_bias: Array, candidate_kernel: Array,
                     candidate_bias: Array) -> tuple[Array, Array]:
    """TF1's ``GRUCell`` over a batch of sequences, as its source computes it:
    r, u = σ(concat([x, h]) · W_gates + b_gates); c = tanh(concat([x, r ⊗ h]) · W_candidate + b);
    new_h = u ⊗ h + (1 − u) ⊗ c. Returns (outputs for all t, h(T))."""
    x = np.asarray(x, np.float64)
    units = candidate_kernel.shape[1]
    if gate_kernel.shape != (x.shape[2] + units, 2 * units) or candidate_kernel.shape != (x.shape[2] + units, units):
        raise ValueError(f"TF1 GRU kernels are (inputs + units, 2 units) and (inputs + units, units): "
                         f"got {gate_kernel.shape}, {candidate_kernel.shape}")
    h = np.zeros((x.shape[0], units))
    outputs = []
    for x_t in x.transpose(1, 0, 2):
        r, u = np.split(sigmoid(np.concatenate([x_t, h], axis=1) @ gate_kernel + gate_bias), 2, axis=1)
        c = np.tanh(np.concatenate([x_t, r * h], axis=1) @ candidate_kernel + candidate_bias)
        h = u * h + (1 - u) * c
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def tf1_gru_to_keras(gate_kernel: Array, gate_bias: Array, candidate_kernel: Array, candidate_bias: Array,
                     n_inputs: int, negate_update: bool = False) -> list[Array]:
    """TF1 ``GRUCell`` weights -> ``[kernel, recurrent_kernel, bias]`` of ``keras.layers.GRU(
    reset_after=False)``: gates (r, u) -> (z = u, r), kernels split into input and recurrent rows.
    `negate_update` applies the (wrong) textbook flip, to show that it is wrong."""
    r, u = np.split(np.asarray(gate_kernel, np.float64), 2, axis=1)
    b_r, b_u = np.split(np.asarray(gate_bias, np.float64), 2)
    if negate_update:
        u, b_u = -u, -b_u
    kernel = np.concatenate([u, r, np.asarray(candidate_kernel, np.float64)], axis=1)
    return [kernel[:n_inputs], kernel[n_inputs:], np.concatenate([b_u, b_r, np.asarray(candidate_bias, np.float64)])]


# chapters/07_lstm_gru.ipynb, cell 22
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


# chapters/07_lstm_gru.ipynb, cell 27
def interval_reproduction(n: int, length: int, shortest: int, longest: int,
                          rng: np.random.Generator) -> tuple[Array, Array]:
    """Two input spikes at s and s + T (T drawn from [shortest, longest]); the target spikes at
    exactly s + 2T. Returns inputs (n, length, 1) and one-hot targets (n, length, 1)."""
    if not 1 <= shortest <= longest or 2 * longest >= length:
        raise ValueError(f"need 1 <= shortest <= longest and 2 * longest < length, got "
                         f"shortest={shortest}, longest={longest}, length={length}")
    intervals = rng.integers(shortest, longest + 1, n)
    starts = np.array([rng.integers(0, length - 2 * t) for t in intervals])
    x = np.zeros((n, length, 1), "float32")
    y = np.zeros((n, length, 1), "float32")
    x[np.arange(n), starts, 0] = 1.0
    x[np.arange(n), starts + intervals, 0] = 1.0
    y[np.arange(n), starts + 2 * intervals, 0] = 1.0
    return x, y


def spike_timing_accuracy(predicted: Array, target: Array) -> float:
    """Share of sequences whose highest output is at exactly the target's spike step."""
    predicted, target = np.asarray(predicted)[..., 0], np.asarray(target)[..., 0]
    return float(np.mean(predicted.argmax(axis=1) == target.argmax(axis=1)))


# chapters/07_lstm_gru.ipynb, cell 31
def delayed_recall(n: int, length: int, delays: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """Random signs in, the signs of the last `delays` inputs out, at every step.

    Inputs (n, length, 1) of +1/-1; targets (n, length, delays): target k - 1 at step t is 1 if the
    input k steps before t was +1. The signs before the first step are drawn too, so every
    target exists; a model can only know them after `delays` steps.
    """
    if length < 1 or n < 1 or delays < 1:
        raise ValueError(f"need n, length and delays >= 1, got n={n}, length={length}, delays={delays}")
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n, delays + length))
    x = signs[:, delays:, None].astype("float32")
    y = np.stack([signs[:, delays - k: delays - k + length] > 0 for k in range(1, delays + 1)], axis=-1)
    return x, y.astype("float32")


def recall_task(n: int, length: int, rng: np.random.Generator) -> tuple[Array, Array, Array]:
    """Recall one marked sign at the end of the sequence.

    Inputs (n, length, 2): a random sign (+1 or -1) and a 0/1 marker; exactly one step per
    sequence is marked, at a uniformly random position. Target (n, 1): 1 if the marked sign
    is +1. Also returns each sequence's marked position, to read accuracy by position.
    """
    if length < 1 or n < 1:
        raise ValueError(f"need n >= 1 and length >= 1, got n={n}, length={length}")
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n, length))
    positions = rng.integers(0, length, n)
    markers = np.zeros((n, length))
    markers[np.arange(n), positions] = 1.0
    x = np.stack([signs, markers], axis=-1).astype("float32")
    y = (signs[np.arange(n), positions] > 0).astype("float32")[:, None]
    return x, y, positions


def accuracy_by_distance(correct: Array, distances: Array, bins: int, length: int) -> tuple[Array, Array]:
    """Mean of `correct` in `bins` equal ranges of distance-from-the-end, nearest first; the bin edges."""
    edges = np.linspace(0, length, bins + 1)
    which = np.clip(np.searchsorted(edges, distances, side="right") - 1, 0, bins - 1)
    means = np.array([np.mean(correct[which == b]) if np.any(which == b) else np.nan for b in range(bins)])
    return means, edges


# chapters/07_lstm_gru.ipynb, cell 37
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
