"""Predicting time series · 预测时间序列: the code the chapter defines and others reuse.

Generated from chapters/03_time_series.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/03_time_series.ipynb, cell 4
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from utils.timing import Contender, alternate
from utils.training import JIT_COMPILE, fit_timed

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


# chapters/03_time_series.ipynb, cell 12
class OutputProjectionCell(keras.layers.Layer):
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
        self.projection = keras.layers.Dense(output_size)

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


# chapters/03_time_series.ipynb, cell 14
def build_toy_model(head: str, units: int = 100, n_steps: int = N_STEPS, layers: int = 1,
                    activation: str = "relu"):
    """The source's model: a ReLU basic RNN of `units`, one prediction per time step.

    head ``"projection"``: OutputProjectionCell inside the loop (the source's first version);
    head ``"stacked"``: one Dense applied to all outputs at once (the source's reshape trick;
    a Keras Dense on a 3-D tensor already works on the last axis). `layers` > 1 stacks
    that many RNN layers under the stacked head (a deep RNN). `activation` is the source's ReLU
    unless told otherwise.
    """
    inputs = keras.Input((n_steps, 1))
    if head == "projection":
        cell = OutputProjectionCell(keras.layers.SimpleRNNCell(units, activation=activation), 1)
        outputs = keras.layers.RNN(cell, return_sequences=True)(inputs)
    elif head == "stacked":
        sequence = inputs
        for _ in range(layers):
            sequence = keras.layers.SimpleRNN(units, activation=activation, return_sequences=True)(sequence)
        outputs = keras.layers.Dense(1)(sequence)
    else:
        raise ValueError(f"head must be 'projection' or 'stacked', not {head!r}")
    if layers != 1 and head != "stacked":
        raise ValueError("only the stacked head takes layers > 1")
    return keras.Model(inputs, outputs, name=f"rnn_{head}_{layers}")


# chapters/03_time_series.ipynb, cell 16
def make_train_step(model, learning_rate: float = 1e-3):
    """A compiled MSE/Adam training step for `model` (one batch in, the loss out)."""
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function(jit_compile=JIT_COMPILE)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return loss

    return train_step


# chapters/03_time_series.ipynb, cell 18
@dataclass
class HeadRun:
    """What one head's training left: its logged MSE and the seconds of each timed block."""

    head: str
    iterations: list[int] = field(default_factory=list)
    mse: list[float] = field(default_factory=list)  # training-batch MSE, logged like the source
    block_seconds: list[float] = field(default_factory=list)  # seconds per timed block


def train_heads_alternating(heads: tuple[str, ...], iterations: int, batch_size: int, log_every: int,
                            block: int, seed: int = 42, units: int = 100, layers: int = 1,
                            activation: str = "relu") -> dict[str, HeadRun]:
    """Train one model per head on identical batches, in interleaved blocks of `block` iterations.

    The blocks are timed by the book's interleaved timer (:func:`utils.timing.alternate`), so
    every head sees the same machine conditions and the timings are comparable.
    """
    if iterations % block:
        raise ValueError("iterations must be a multiple of block")
    rng = np.random.default_rng(seed)
    batches = [toy_batch(batch_size, rng) for _ in range(iterations)]
    runs, contenders = {}, []
    for head in heads:
        keras.utils.set_random_seed(seed)  # same initial recurrent weights for every head
        run = runs[head] = HeadRun(head)
        run.model = build_toy_model(head, units, layers=layers, activation=activation)  # type: ignore[attr-defined]
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


# chapters/03_time_series.ipynb, cell 26
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


# chapters/03_time_series.ipynb, cell 28
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
    """The linear autoregression's forecast for windows `x`, with the weights of `fit_linear`."""
    design = np.concatenate([x[..., 0], np.ones((len(x), 1), x.dtype)], axis=1).astype(np.float64)
    return design @ weights


# chapters/03_time_series.ipynb, cell 30
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
    keras.utils.set_random_seed(seed)
    horizon = y_train.shape[1]
    model = keras.Sequential([keras.Input(x_train.shape[1:]), keras.layers.GRU(units),
                              keras.layers.Dense(horizon)])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse", jit_compile=JIT_COMPILE)
    stop = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    history = fit_timed(model, x_train, y_train, batch_size=64, shuffle_seed=seed, validation_data=(x_val, y_val),
                        epochs=max_epochs, callbacks=[stop])
    model.history_ = dict(history.history)
    model.epoch_seconds_ = list(history.seconds)
    return model


# chapters/03_time_series.ipynb, cell 32
def autoregressive_forecast(predict_next, x: np.ndarray, horizon: int, scale: float) -> np.ndarray:
    """Forecast `horizon` steps by feeding each one-step prediction back into the window.

    `predict_next` maps windows relative to their last value (see `relative_to_last`) to the next
    relative value; the forecast is in the series' units, (n, horizon).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    window = np.asarray(x, np.float64)[..., 0].copy()
    steps = []
    for _ in range(horizon):
        last = window[:, -1:]
        relative = ((window - last) / scale)[..., None].astype(np.float32)
        step = np.asarray(predict_next(relative), np.float64).reshape(-1, 1) * scale + last
        steps.append(step[:, 0])
        window = np.concatenate([window[:, 1:], step], axis=1)
    return np.stack(steps, axis=1)


# chapters/03_time_series.ipynb, cell 38
def mixed_resolution(x: np.ndarray, tiers) -> np.ndarray:
    """Windows summarised more coarsely the further back they reach.

    `x` is (n, steps, features), oldest step first. `tiers` lists (count, span) pairs from the
    oldest to the newest: ((5, 13), (5, 4), (5, 1)) gives five 13-step means, then five 4-step
    means, then the last five values as they are. The tiers must cover the window exactly.
    """
    x = np.asarray(x)
    tiers = [(int(count), int(span)) for count, span in tiers]
    if not tiers or any(count < 1 or span < 1 for count, span in tiers):
        raise ValueError(f"tiers must be (count >= 1, span >= 1) pairs, got {tiers}")
    covered = sum(count * span for count, span in tiers)
    if x.ndim != 3 or x.shape[1] != covered:
        raise ValueError(f"the tiers cover {covered} steps; x must be (n, {covered}, features), got {x.shape}")
    parts, start = [], 0
    for count, span in tiers:
        block = x[:, start:start + count * span]
        parts.append(block.reshape(len(x), count, span, x.shape[2]).mean(axis=2))
        start += count * span
    return np.concatenate(parts, axis=1)
