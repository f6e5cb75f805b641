"""Backpropagation through time · 通过时间反向传播: the code the chapter defines and others reuse.

Generated from chapters/01_bptt.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/01_bptt.ipynb, cell 9
import functools
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

Params = dict[str, np.ndarray]  # "Wx" (inputs, units), "Wh" (units, units), "b" (units,)


def init_params(n_inputs: int, n_units: int, rng: np.random.Generator, scale: float = 0.5) -> Params:
    """Small random float64 parameters for a basic RNN cell."""
    return {"Wx": rng.normal(0, scale, (n_inputs, n_units)),
            "Wh": rng.normal(0, scale, (n_units, n_units)),
            "b": rng.normal(0, scale, (n_units,))}


def rnn_forward(X: np.ndarray, params: Params) -> np.ndarray:
    """All outputs ``Y`` (batch, time, units) of the unrolled basic RNN, from a zero state."""
    batch, steps, _ = X.shape
    h = np.zeros((batch, params["Wh"].shape[0]))
    outputs = []
    for t in range(steps):
        h = np.tanh(X[:, t] @ params["Wx"] + h @ params["Wh"] + params["b"])
        outputs.append(h)
    return np.stack(outputs, axis=1)


def rnn_cost(Y: np.ndarray, targets: np.ndarray, cost_steps: Sequence[int]) -> float:
    """``C = 1/2 * sum over t in cost_steps of ||Y_t - target_t||^2`` (summed over the batch)."""
    cost_steps = check_cost_steps(Y.shape[1], cost_steps)
    return 0.5 * float(np.sum((Y[:, cost_steps] - targets[:, cost_steps]) ** 2))


# chapters/01_bptt.ipynb, cell 10
# Argument checks: a bad argument is a clear error, not a NaN three functions later.
def check_cost_steps(steps: int, cost_steps: Sequence[int]) -> list[int]:
    cost_steps = sorted(set(int(t) for t in cost_steps))
    if not cost_steps or cost_steps[0] < 0 or cost_steps[-1] >= steps:
        raise ValueError(f"cost steps {cost_steps} must be non-empty and within 0..{steps - 1}")
    return cost_steps


def _check_int(name: str, value, minimum: int) -> int:
    # bool is an int to Python, but True units or streams is a mistake, not a size
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


# chapters/01_bptt.ipynb, cell 12
@dataclass
class BPTTResult:
    """Gradients of the cost, and how they arise step by step."""

    grads: Params  # dC/dWx, dC/dWh, dC/db: sums over time of the per-step terms
    per_step: dict[str, np.ndarray]  # name -> (time, *shape): each step's term of the sum
    direct_output_grad: np.ndarray  # (time,) norm of dC/dY_t injected directly at step t
    backprop_grad: np.ndarray  # (time,) norm of the total error reaching h_t
    input_grad: np.ndarray  # dC/dX (batch, time, inputs)


def rnn_bptt(X: np.ndarray, params: Params, targets: np.ndarray,
             cost_steps: Sequence[int]) -> BPTTResult:
    """Backpropagation through time for :func:`rnn_cost`, written out step by step."""
    batch, steps, _ = X.shape
    cost_steps = check_cost_steps(steps, cost_steps)
    Y = rnn_forward(X, params)
    H_prev = np.concatenate([np.zeros_like(Y[:, :1]), Y[:, :-1]], axis=1)  # h_{t-1}
    per_step = {name: np.zeros((steps, *p.shape)) for name, p in params.items()}
    direct = np.zeros(steps)
    total = np.zeros(steps)
    dX = np.zeros_like(X)
    dh_next = np.zeros_like(Y[:, 0])  # error flowing into h_t from step t+1
    for t in reversed(range(steps)):
        dY = (Y[:, t] - targets[:, t]) if t in cost_steps else np.zeros_like(Y[:, t])
        direct[t] = np.linalg.norm(dY)
        dh = dY + dh_next
        total[t] = np.linalg.norm(dh)
        da = dh * (1.0 - Y[:, t] ** 2)  # through tanh
        per_step["Wx"][t] = X[:, t].T @ da
        per_step["Wh"][t] = H_prev[:, t].T @ da
        per_step["b"][t] = da.sum(axis=0)
        dX[:, t] = da @ params["Wx"].T
        dh_next = da @ params["Wh"].T
    grads = {name: terms.sum(axis=0) for name, terms in per_step.items()}
    return BPTTResult(grads, per_step, direct, total, dX)


# chapters/01_bptt.ipynb, cell 14
def central_differences(cost: Callable[[Params], float], params: Params,
                        eps: float = 1e-6) -> Params:
    """Numerical gradient of `cost` by central differences, one parameter at a time."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = value[index] + eps
            plus = cost(shifted)
            shifted[name][index] = value[index] - eps
            grad[index] = (plus - cost(shifted)) / (2 * eps)
        grads[name] = grad
    return grads


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / max(||a||, ||b||)``, 0 when both are 0."""
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return 0.0 if scale == 0 else float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / scale)


def keras_simple_rnn(params: Params, activation: str | None = "tanh"):
    """A float64 ``keras.layers.SimpleRNN`` holding `params`, returning every output."""

    n_inputs, n_units = params["Wx"].shape
    layer = keras.layers.SimpleRNN(n_units, activation=activation, return_sequences=True,
                                   dtype="float64")
    layer.build((None, None, n_inputs))
    layer.set_weights([params["Wx"], params["Wh"], params["b"]])
    return layer


def tape_gradients(X: np.ndarray, params: Params, targets: np.ndarray,
                   cost_steps: Sequence[int]) -> Params:
    """The same gradients from ``tf.GradientTape`` over a Keras SimpleRNN, in float64."""

    cost_steps = check_cost_steps(X.shape[1], cost_steps)
    layer = keras_simple_rnn(params)
    with tf.GradientTape() as tape:
        Y = layer(tf.constant(X))
        picked = tf.gather(Y - targets, cost_steps, axis=1)
        cost = 0.5 * tf.reduce_sum(picked ** 2)
    kernel, recurrent, bias = layer.trainable_weights
    grads = tape.gradient(cost, [kernel, recurrent, bias])
    return {name: g.numpy() for name, g in zip(("Wx", "Wh", "b"), grads)}


# chapters/01_bptt.ipynb, cell 19
def recurrent_matrix(n_units: int, spectral_radius: float, rng: np.random.Generator) -> np.ndarray:
    """A random Gaussian matrix rescaled so its largest |eigenvalue| is `spectral_radius`."""
    _check_int("n_units", n_units, 1)
    _check_positive("spectral_radius", spectral_radius)  # NaN would give a NaN matrix
    matrix = rng.normal(0, 1 / np.sqrt(n_units), (n_units, n_units))
    return matrix * (spectral_radius / np.max(np.abs(np.linalg.eigvals(matrix))))


def gradient_norm_vs_lag(spectral_radius: float, lags: int, activation: str | None = "tanh",
                         n_units: int = 64, n_inputs: int = 8, input_scale: float = 0.1,
                         seed: int = 0) -> np.ndarray:
    """``||d h_T / d x_{T-lag}||`` (Frobenius) for lag = 0 .. lags-1, via ``tape.jacobian``."""

    rng = np.random.default_rng(seed)
    params = {"Wx": rng.normal(0, 1 / np.sqrt(n_inputs), (n_inputs, n_units)),
              "Wh": recurrent_matrix(n_units, spectral_radius, rng),
              "b": np.zeros(n_units)}
    layer, jacobian_of_last_state = _last_state_jacobian(activation, n_inputs, n_units)
    layer.set_weights([params["Wx"], params["Wh"], params["b"]])
    X = tf.constant(rng.normal(0, input_scale, (1, lags, n_inputs)))
    jacobian = jacobian_of_last_state(X)  # (1, units, 1, time, inputs)
    norms = tf.norm(tf.transpose(jacobian[0, :, 0], (1, 0, 2)), axis=(1, 2)).numpy()
    return norms[::-1]  # index = lag


@functools.cache
def _last_state_jacobian(activation: str | None, n_inputs: int, n_units: int):
    """One SimpleRNN layer per configuration and a compiled ``d h_T / d X`` over it.

    Called eagerly, ``tape.jacobian`` builds a new ``tf.function`` for its vectorised loop at
    every call, and TensorFlow warns about the retracing; traced once here, it runs as one graph
    for every draw (the caller sets the layer's weights first).
    """

    layer = keras_simple_rnn({"Wx": np.zeros((n_inputs, n_units)), "Wh": np.zeros((n_units, n_units)),
                              "b": np.zeros(n_units)}, activation)

    @tf.function(reduce_retracing=True)
    def jacobian_of_last_state(X):
        with tf.GradientTape() as tape:
            tape.watch(X)
            h_last = layer(X)[:, -1]
        return tape.jacobian(h_last, X)

    return layer, jacobian_of_last_state


# chapters/01_bptt.ipynb, cell 22
def echo_data(streams: int, steps: int, lag: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random bits and the same bits `lag` steps later: ``x, y, mask`` of shape (streams, steps).

    ``y[:, t] = x[:, t - lag]``; the first `lag` steps have no target (mask 0).
    """
    if lag < 1 or steps <= lag:
        raise ValueError(f"need 1 <= lag < steps, got lag={lag}, steps={steps}")
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (streams, steps)).astype(np.float32)
    y = np.zeros_like(x)
    y[:, lag:] = x[:, :-lag]
    mask = np.zeros_like(x)
    mask[:, lag:] = 1.0
    return x, y, mask


# chapters/01_bptt.ipynb, cell 24
@dataclass
class TruncationRun:
    """Learning curve of one truncation length on the echo task."""

    truncation: int
    steps_seen: list[int] = field(default_factory=list)  # training time steps per stream
    val_accuracy: list[float] = field(default_factory=list)
    updates: int = 0
    seconds: float = 0.0

    @property
    def final_error(self) -> float:
        return 1.0 - self.val_accuracy[-1]


def echo_model(units: int) -> keras.Model:
    """``[bits, initial state] -> [logits at every step, last state]``."""
    inputs = keras.Input((None, 1))
    state_in = keras.Input((units,))
    sequence, state_out = keras.layers.SimpleRNN(units, return_sequences=True, return_state=True)(
        inputs, initial_state=state_in)
    logits = keras.layers.Dense(1)(sequence)
    return keras.Model([inputs, state_in], [logits, state_out])


# chapters/01_bptt.ipynb, cell 26
def train_truncated(truncation: int, lag: int, units: int, streams: int, train_steps: int,
                    eval_steps: int, curve_points: int, learning_rate: float,
                    seed: int = 0) -> TruncationRun:
    """Train a SimpleRNN on the echo task with BPTT truncated every `truncation` steps.

    The state is carried from one chunk to the next (the forward pass sees the whole
    stream), but each update back-propagates only inside its chunk.
    """
    _check_truncation_arguments(truncation, lag, units, streams, train_steps, eval_steps, curve_points,
                                learning_rate, seed)
    keras.utils.set_random_seed(seed)  # the same initial weights for every truncation length
    model = echo_model(units)
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)

    @tf.function(reduce_retracing=True)
    def train_step(x, y, mask, state):
        with tf.GradientTape() as tape:
            out, new_state = model([x, state], training=True)
            loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=out[..., 0])
            loss = tf.reduce_sum(loss * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return new_state  # a value, not a path: the next chunk's gradient stops here

    @tf.function
    def accuracy(x, y, mask):
        out, _ = model([x, tf.zeros((tf.shape(x)[0], units))], training=False)
        hit = tf.cast(tf.equal(tf.cast(out[..., 0] > 0, tf.float32), y), tf.float32)
        return tf.reduce_sum(hit * mask) / tf.reduce_sum(mask)

    x, y, mask = echo_data(streams, train_steps, lag, seed + 1)
    vx, vy, vmask = echo_data(streams, eval_steps, lag, seed + 2)
    vx, vy, vmask = vx[..., None], tf.constant(vy), tf.constant(vmask)
    run = TruncationRun(truncation)
    checkpoints = set(np.linspace(0, train_steps, curve_points + 1).astype(int)[1:])
    state = tf.zeros((streams, units))
    start = time.perf_counter()
    run.steps_seen.append(0)
    run.val_accuracy.append(float(accuracy(vx, vy, vmask)))
    next_mark = sorted(checkpoints)
    for begin in range(0, train_steps, truncation):
        end = min(begin + truncation, train_steps)
        state = train_step(x[:, begin:end, None], y[:, begin:end], mask[:, begin:end], state)
        run.updates += 1
        while next_mark and end >= next_mark[0]:
            run.steps_seen.append(int(next_mark.pop(0)))
            run.val_accuracy.append(float(accuracy(vx, vy, vmask)))
    run.seconds = time.perf_counter() - start
    return run


# chapters/01_bptt.ipynb, cell 27
def _check_truncation_arguments(truncation, lag, units, streams, train_steps, eval_steps,
                                curve_points, learning_rate, seed):
    """Clear errors for the arguments of :func:`train_truncated`, before anything is built."""
    _check_int("truncation", truncation, 1)
    _check_int("units", units, 1)
    _check_int("streams", streams, 1)  # streams=0 made every accuracy 0/0 = NaN
    _check_int("lag", lag, 1)
    _check_int("train_steps", train_steps, lag + 1)  # the echo task needs steps past the lag
    _check_int("eval_steps", eval_steps, lag + 1)
    # fewer than one point recorded only the untrained model; more than one per step repeats points
    _check_int("curve_points", curve_points, 1)
    if curve_points > train_steps:
        raise ValueError(f"curve_points must be <= train_steps ({train_steps}), got {curve_points}")
    _check_positive("learning_rate", learning_rate)  # NaN trained NaN weights without a word
    _check_int("seed", seed, 0)
