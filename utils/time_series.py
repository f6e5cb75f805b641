"""Time-series prediction with RNNs: the source's toy series, its two output heads, a real series.

The source's series is ``t·sin(t)/3 + 2·sin(5t)``; an instance is 20 consecutive values
(resolution 0.1) and its target is the same window shifted one step ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .timing import Contender, alternate
from .training import JIT_COMPILE, fit_timed

T_MIN, T_MAX, RESOLUTION = 0.0, 30.0, 0.1
N_STEPS = 20


def toy_series(t: np.ndarray) -> np.ndarray:
    """The source's series: t·sin(t)/3 + 2·sin(5t)."""
    return t * np.sin(t) / 3 + 2 * np.sin(t * 5)


def toy_batch(batch_size: int, rng: np.random.Generator, n_steps: int = N_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Random windows of the toy series: inputs and targets one step ahead, (batch, n_steps, 1)."""
    t0 = rng.random((batch_size, 1)) * (T_MAX - T_MIN - n_steps * RESOLUTION)
    times = t0 + np.arange(n_steps + 1) * RESOLUTION
    values = toy_series(times).astype(np.float32)
    return values[:, :-1, None], values[:, 1:, None]


def instance_times(start: float = 12.2, n_steps: int = N_STEPS) -> np.ndarray:
    """The source's test instance: n_steps + 1 times from `start` (figure 14-9)."""
    return np.linspace(start, start + RESOLUTION * n_steps, n_steps + 1)


# ------------------------------------------------------------- the two output heads

def _keras():
    import keras

    return keras


class OutputProjectionCell(_keras().layers.Layer):
    """Keras 3 port of TF1's ``OutputProjectionWrapper``: a cell whose output is projected.

    At every time step the wrapped cell's output goes through its own Dense projection
    inside the recurrent loop, so the layer returns ``output_size`` values per step. The
    state is the wrapped cell's state, unprojected.
    """

    def __init__(self, cell, output_size: int, **kwargs):
        super().__init__(**kwargs)
        if output_size < 1:
            raise ValueError("output_size must be >= 1")
        self.cell = cell
        self.output_size = output_size
        self.state_size = cell.state_size
        self.projection = _keras().layers.Dense(output_size)

    def build(self, input_shape):
        self.cell.build(input_shape)
        units = self.cell.output_size if hasattr(self.cell, "output_size") else self.cell.units
        self.projection.build((input_shape[0], units))
        self.built = True

    def call(self, inputs, states, training=None):
        output, new_states = self.cell(inputs, states, training=training)
        return self.projection(output), new_states

    def get_initial_state(self, batch_size=None):
        return self.cell.get_initial_state(batch_size)


def build_toy_model(head: str, units: int = 100, n_steps: int = N_STEPS, layers: int = 1):
    """The source's model: a ReLU basic RNN of `units`, one prediction per time step.

    head ``"projection"``: OutputProjectionCell inside the loop (the source's first version);
    head ``"stacked"``: one Dense applied to all outputs at once (the source's reshape trick;
    a Keras Dense on a 3-D tensor already works on the last axis). `layers` > 1 stacks
    that many ReLU RNN layers under the stacked head (a deep RNN).
    """
    keras = _keras()
    inputs = keras.Input((n_steps, 1))
    if head == "projection":
        cell = OutputProjectionCell(keras.layers.SimpleRNNCell(units, activation="relu"), 1)
        outputs = keras.layers.RNN(cell, return_sequences=True)(inputs)
    elif head == "stacked":
        sequence = inputs
        for _ in range(layers):
            sequence = keras.layers.SimpleRNN(units, activation="relu", return_sequences=True)(sequence)
        outputs = keras.layers.Dense(1)(sequence)
    else:
        raise ValueError(f"head must be 'projection' or 'stacked', not {head!r}")
    if layers != 1 and head != "stacked":
        raise ValueError("only the stacked head takes layers > 1")
    return keras.Model(inputs, outputs, name=f"rnn_{head}_{layers}")


def make_train_step(model, learning_rate: float = 1e-3):
    """A compiled MSE/Adam training step for `model` (one batch in, the loss out)."""
    import tensorflow as tf

    optimizer = _keras().optimizers.Adam(learning_rate)

    @tf.function(jit_compile=JIT_COMPILE)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return loss

    return train_step


@dataclass
class HeadRun:
    head: str
    iterations: list[int] = field(default_factory=list)
    mse: list[float] = field(default_factory=list)  # training-batch MSE, logged like the source
    block_seconds: list[float] = field(default_factory=list)  # seconds per timed block


def train_heads_alternating(heads: tuple[str, ...], iterations: int, batch_size: int, log_every: int,
                            block: int, seed: int = 42, units: int = 100, layers: int = 1) -> dict[str, HeadRun]:
    """Train one model per head on identical batches, in interleaved blocks of `block` iterations.

    The blocks are timed by the book's interleaved timer (:func:`utils.timing.alternate`), so
    every head sees the same machine conditions and the timings are comparable.
    """
    keras = _keras()
    if iterations % block:
        raise ValueError("iterations must be a multiple of block")
    rng = np.random.default_rng(seed)
    batches = [toy_batch(batch_size, rng) for _ in range(iterations)]
    runs, contenders = {}, []
    for head in heads:
        keras.utils.set_random_seed(seed)  # same initial recurrent weights for every head
        run = runs[head] = HeadRun(head)
        run.model = build_toy_model(head, units, layers=layers)  # type: ignore[attr-defined]
        step = make_train_step(run.model)
        done = [0]  # iterations trained so far

        def train_block(run=run, step=step, done=done) -> int:
            for iteration in range(done[0], done[0] + block):
                loss = step(*batches[iteration])
                if iteration % log_every == 0 or iteration == iterations - 1:
                    run.iterations.append(iteration)
                    run.mse.append(float(loss))
            done[0] += block
            return block

        # tracing (and XLA compilation) happens on a copy of the first batch, outside the timings
        contenders.append(Contender(head, train_block, setup=lambda step=step: step(*batches[0])))
    alternate(contenders, repeats=iterations // block, warmup=0)
    for contender in contenders:
        runs[contender.name].block_seconds = contender.seconds
    return runs


# ----------------------------------------------------------------- forecasting

def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps (the CO2 record has a few missing weeks)."""
    values = np.asarray(values, dtype=np.float64).copy()
    missing = np.isnan(values)
    if missing.all():
        raise ValueError("the series has no values")
    index = np.arange(len(values))
    values[missing] = np.interp(index[missing], index[~missing], values[~missing])
    return values


def windows(series: np.ndarray, n_steps: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows of `n_steps` inputs and the `horizon` values that follow each."""
    for name, value in (("n_steps", n_steps), ("horizon", horizon)):
        # a negative size made count positive and returned windows of impossible shapes
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    series = np.asarray(series, dtype=np.float32)
    if series.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {series.shape}")
    count = len(series) - n_steps - horizon + 1
    if count < 1:
        raise ValueError(f"a series of {len(series)} values has no window of {n_steps}+{horizon}")
    idx = np.arange(n_steps + horizon)[None, :] + np.arange(count)[:, None]
    block = series[idx]
    return block[:, :n_steps, None], block[:, n_steps:]


def rmse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared error of two arrays of the same shape."""
    prediction, target = np.asarray(prediction), np.asarray(target)
    # (n, 1) against (n,) would broadcast to (n, n) and compare every pair
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {prediction.shape} and target {target.shape} must have the same shape")
    if prediction.size == 0:
        raise ValueError("rmse of empty arrays")
    return float(np.sqrt(np.mean((prediction - target) ** 2)))


def naive_forecast(x: np.ndarray, horizon: int) -> np.ndarray:
    """Repeat the last observed value over the horizon."""
    return np.repeat(x[:, -1, 0:1], horizon, axis=1)


def fit_linear(x: np.ndarray, y: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """Least squares weights of y on the window (plus a bias): a linear autoregression."""
    design = np.concatenate([x[..., 0], np.ones((len(x), 1), x.dtype)], axis=1).astype(np.float64)
    gram = design.T @ design + ridge * np.eye(design.shape[1])
    return np.linalg.solve(gram, design.T @ y.astype(np.float64))


def predict_linear(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    design = np.concatenate([x[..., 0], np.ones((len(x), 1), x.dtype)], axis=1).astype(np.float64)
    return design @ weights


def generate(model, seed_values: np.ndarray, length: int, n_steps: int = N_STEPS) -> np.ndarray:
    """Creative RNN: extend `seed_values` by `length` values, each predicted and fed back.

    At every step the model reads the last `n_steps` values and its last output is the
    next value (the source's figure 14-11). Returns seed and generated values together.
    """
    import tensorflow as tf

    values = [float(v) for v in np.asarray(seed_values, dtype=np.float32).ravel()]
    if len(values) < n_steps:
        raise ValueError(f"the seed needs at least {n_steps} values, got {len(values)}")
    if length < 0:
        raise ValueError("length must be >= 0")
    predict = tf.function(lambda x: model(x, training=False))
    for _ in range(length):
        window = np.array(values[-n_steps:], dtype=np.float32)[None, :, None]
        values.append(float(predict(window)[0, -1, 0]))
    return np.array(values, dtype=np.float32)


def relative_to_last(x: np.ndarray, y: np.ndarray | None = None, scale: float = 1.0):
    """Express windows (and targets) as changes from the window's last value, divided by `scale`.

    A trending series then looks stationary, so a model trained on the past is not asked
    to extrapolate to levels it has never seen.
    """
    last = x[:, -1:, :]
    x_rel = (x - last) / scale
    if y is None:
        return x_rel
    return x_rel, (y - last[:, :, 0]) / scale


def fit_rnn_forecaster(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                       units: int, max_epochs: int, seed: int = 0, patience: int = 10):
    """A GRU reading the window, a Dense giving all horizon values at once; early stopping on validation MSE."""
    keras = _keras()
    keras.utils.set_random_seed(seed)
    horizon = y_train.shape[1]
    model = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.GRU(units),
                              keras.layers.Dense(horizon)])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse", jit_compile=JIT_COMPILE)
    stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    history = fit_timed(model, x_train, y_train, batch_size=64, shuffle_seed=seed, validation_data=(x_val, y_val),
                        epochs=max_epochs, callbacks=[stop])
    model.history_ = dict(history.history)
    return model
