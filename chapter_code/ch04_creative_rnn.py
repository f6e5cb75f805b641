"""Creative RNN · 创意RNN: the code the chapter defines and others reuse.

Generated from chapters/04_creative_rnn.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/04_creative_rnn.ipynb, cell 6
import numpy as np
import tensorflow as tf

from chapter_code.ch03_time_series import N_STEPS
from utils.training import JIT_COMPILE


def generate(model, seed_values: np.ndarray, length: int, n_steps: int = N_STEPS) -> np.ndarray:
    """Creative RNN: extend `seed_values` by `length` values, each predicted and fed back.

    At every step the model reads the last `n_steps` values and its last output is the
    next value (the source's figure 14-11). Returns seed and generated values together.
    """
    values = [float(v) for v in np.asarray(seed_values, dtype=np.float32).ravel()]
    if len(values) < n_steps:
        raise ValueError(f"the seed needs at least {n_steps} values, got {len(values)}")
    if length < 0:
        raise ValueError("length must be >= 0")
    # Compiled with XLA, as in training: TensorFlow's graph optimizer logs errors on a ReLU loop otherwise.
    predict = tf.function(lambda x: model(x, training=False), jit_compile=JIT_COMPILE)
    for _ in range(length):
        window = np.array(values[-n_steps:], dtype=np.float32)[None, :, None]
        values.append(float(predict(window)[0, -1, 0]))
    return np.array(values, dtype=np.float32)


# chapters/04_creative_rnn.ipynb, cell 15
from dataclasses import dataclass, field

from utils.training import book_dataset, fit_timed


@dataclass(frozen=True)
class Vocabulary:
    """Characters <-> ids."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        return cls(tuple(sorted(set(text))))

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return np.array([index[c] for c in text], dtype=np.int32)
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < len(self.chars)]
        if bad:  # a negative id would index from the end and return a character
            raise ValueError(f"ids {bad[:5]} are outside 0..{len(self.chars) - 1}")
        return "".join(self.chars[i] for i in ids)

    def __len__(self) -> int:
        return len(self.chars)


# chapters/04_creative_rnn.ipynb, cell 17
def window_dataset(ids: np.ndarray, seq_len: int, batch_size: int, seed: int):
    """Shuffled windows of `seq_len` + 1 ids as (inputs, next-character targets)."""
    import tensorflow as tf

    if len(ids) <= seq_len + 1:
        raise ValueError("the text is shorter than one window")
    ds = tf.data.Dataset.from_tensor_slices(ids).batch(seq_len + 1, drop_remainder=True)
    ds = ds.shuffle(10_000, seed=seed).batch(batch_size, drop_remainder=True)
    return book_dataset(ds.map(lambda w: (w[:, :-1], w[:, 1:])))


# chapters/04_creative_rnn.ipynb, cell 19
class CharModel:
    """Embedding -> GRU -> Dense over the vocabulary; trains on windows, generates step by step."""

    def __init__(self, vocabulary_size: int, embedding_dim: int = 64, units: int = 256):
        import keras

        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim)
        # use_cudnn=False: the training step is compiled with XLA, which cannot compile the cuDNN
        # kernel Keras would pick on a GPU (on a CPU there is none: the same generic loop either way)
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True, use_cudnn=False)
        self.head = keras.layers.Dense(vocabulary_size)
        inputs = keras.Input((None,), dtype="int32")
        sequence, _ = self.gru(self.embedding(inputs))
        self.model = keras.Model(inputs, self.head(sequence))

    def step_logits(self, ids, state):
        """Logits after reading `ids` (batch, time) from `state` (None: zeros), and the new state."""
        sequence, state = self.gru(self.embedding(ids), initial_state=state)
        return self.head(sequence[:, -1]), state

    def generate(self, vocabulary: Vocabulary, prime: str, length: int, temperature: float,
                 seed: int = 0) -> str:
        """`length` characters after `prime`, each sampled at `temperature`, fed back as input."""
        import tensorflow as tf

        check_generation_request(prime, length, temperature)
        rng = np.random.default_rng(seed)
        step = tf.function(self.step_logits)  # one graph for all single-character steps
        logits, state = self.step_logits(tf.constant(vocabulary.encode(prime)[None]), None)
        out = []
        for _ in range(length):
            next_id = sample_with_temperature(logits.numpy()[0], temperature, rng)
            out.append(next_id)
            logits, state = step(tf.constant([[next_id]], dtype=tf.int32), [state])
        return vocabulary.decode(out)


# chapters/04_creative_rnn.ipynb, cell 20
def check_generation_request(prime: str, length: int, temperature: float) -> None:
    """Clear errors for a request `CharModel.generate` cannot serve."""
    check_temperature(temperature)  # defined with the sampler, in the section on temperature
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise ValueError(f"length must be an integer >= 0, got {length!r}")  # -5 gave ''
    if not prime:
        raise ValueError("prime must hold at least one character")


# chapters/04_creative_rnn.ipynb, cell 22
@dataclass
class CharTrainingLog:
    """Per-epoch losses and seconds of one training run."""

    train_loss: list[float] = field(default_factory=list)  # per epoch, nats per character
    val_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)


def train_char_model(char_model: CharModel, train_ids: np.ndarray, val_ids: np.ndarray, seq_len: int,
                     batch_size: int, epochs: int, learning_rate: float, seed: int = 0,
                     steps_per_epoch: int | None = None) -> CharTrainingLog:
    """Adam on next-character cross-entropy; validation loss after every epoch.

    With `steps_per_epoch`, an "epoch" is that many batches of a repeated, reshuffled stream.
    """
    import keras

    keras.utils.set_random_seed(seed)
    char_model.model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                             loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                             jit_compile=JIT_COMPILE)
    train = window_dataset(train_ids, seq_len, batch_size, seed)
    if steps_per_epoch:
        train = train.repeat()
    history = fit_timed(char_model.model, train, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        validation_data=window_dataset(val_ids, seq_len, batch_size, seed))
    # an epoch's seconds include its validation pass, which is small
    return CharTrainingLog(history["loss"], history["val_loss"], history.seconds)


# chapters/04_creative_rnn.ipynb, cell 25
def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / temperature) along the last axis."""
    scaled = divide_by_temperature(logits, temperature)  # checked: see the collapsed cell below
    scaled -= scaled.max(axis=-1, keepdims=True)  # the same softmax, and exp cannot overflow
    weights = np.exp(scaled)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_with_temperature(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Draw one index from softmax(logits / temperature).

    Low temperatures approach the arg-max (safe, repetitive text), high ones approach
    uniform sampling (varied, then garbled).
    """
    probabilities = softmax_with_temperature(logits, temperature)
    return int(rng.choice(len(probabilities), p=probabilities))


# chapters/04_creative_rnn.ipynb, cell 27
import math
import numbers
import sys


def check_temperature(temperature: float) -> float:
    """A temperature must be a real number, finite and > 0, whose inverse is finite too."""
    # float() would take "0.5" and True: a string or a bool is a mistake, not a temperature
    if isinstance(temperature, (bool, np.bool_)) or not isinstance(temperature, numbers.Real):
        raise ValueError(f"temperature must be a number, not {temperature!r}")
    value = float(temperature)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"temperature must be finite and > 0, got {temperature!r}")
    if value < 1 / sys.float_info.max:  # 1e-320: every logit / temperature is infinite
        raise ValueError(f"temperature must be >= {1 / sys.float_info.max:.3g} (1 / temperature "
                         f"must be finite), got {temperature!r}")
    return value


def divide_by_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """logits / temperature in float64, refusing a bad temperature or a result that overflows."""
    temperature = check_temperature(temperature)
    logits = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):
        scaled = logits / temperature
    if not np.isfinite(scaled).all():  # inf - inf would make the probabilities NaN
        raise ValueError(f"logits / temperature is not finite (temperature {temperature!r}, "
                         f"largest |logit| {np.abs(logits).max()!r}): check the logits or raise the temperature")
    return scaled


# chapters/04_creative_rnn.ipynb, cell 35
import functools
import time
from typing import Callable

import keras


def stream_batches(ids: np.ndarray, seq_len: int, batch_size: int):
    """Consecutive windows for stateful training: slot i of every batch reads stream i, in order.

    The text is cut into `batch_size` equal streams; batch k holds the k-th window of each,
    so the state a slot ends one batch with is the right start for its next window.
    """
    ids = np.asarray(ids)
    stream_length = len(ids) // batch_size
    windows_per_stream = (stream_length - 1) // seq_len
    if windows_per_stream < 1:
        raise ValueError(f"{len(ids)} ids make no window of {seq_len} + 1 in each of {batch_size} streams")
    streams = ids[: stream_length * batch_size].reshape(batch_size, stream_length)
    for k in range(windows_per_stream):
        chunk = streams[:, k * seq_len: k * seq_len + seq_len + 1]
        yield chunk[:, :-1], chunk[:, 1:]


# chapters/04_creative_rnn.ipynb, cell 37
@functools.cache
def compiled_window_loss(char_model: CharModel) -> Callable:
    """`(x, y, state) -> (loss, new state)` of one window, traced once per model (a new
    tf.function at every call of `char_loss` would trace again, inside the timed epochs)."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def window_loss(x, y, state):
        sequence, new_state = char_model.gru(char_model.embedding(x), initial_state=[state])
        return loss_fn(y, char_model.head(sequence)), new_state

    return window_loss


def char_loss(char_model: CharModel, ids: np.ndarray, seq_len: int, batch_size: int, carry_state: bool) -> float:
    """Mean next-character cross-entropy (nats) over the stream windows of `ids`.

    With `carry_state`, each window starts from the state the previous window of its stream
    ended in; without, from zeros. The windows and targets are the same either way.
    """
    window_loss = compiled_window_loss(char_model)
    zeros = tf.zeros((batch_size, char_model.gru.units))
    state, losses = zeros, []
    for x, y in stream_batches(ids, seq_len, batch_size):
        loss, new_state = window_loss(tf.constant(x), tf.constant(y), state if carry_state else zeros)
        state = new_state
        losses.append(loss)
    return float(tf.reduce_mean(losses))


# chapters/04_creative_rnn.ipynb, cell 39
def train_char_model_stateful(char_model: CharModel, train_ids: np.ndarray, val_ids: np.ndarray, seq_len: int,
                              batch_size: int, epochs: int, learning_rate: float, seed: int = 0) -> CharTrainingLog:
    """Truncated BPTT over streams: each batch starts from the state the previous batch ended in.

    The same loss, optimiser and clipping as `train_char_model`; the state is reset to zeros at
    each epoch's start. The validation loss carries the state too (`char_loss`).
    """
    keras.utils.set_random_seed(seed)
    optimizer = keras.optimizers.Adam(learning_rate, clipnorm=1.0)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    variables = char_model.model.trainable_variables
    optimizer.build(variables)

    @tf.function(jit_compile=JIT_COMPILE)
    def train_step(x, y, state):
        with tf.GradientTape() as tape:
            # the incoming state is a constant: the gradient stops at the window's first step
            sequence, new_state = char_model.gru(char_model.embedding(x), initial_state=[tf.stop_gradient(state)])
            loss = loss_fn(y, char_model.head(sequence))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, new_state

    log = CharTrainingLog()
    for _ in range(epochs):
        start = time.perf_counter()
        state, losses = tf.zeros((batch_size, char_model.gru.units)), []
        for x, y in stream_batches(train_ids, seq_len, batch_size):
            loss, state = train_step(tf.constant(x), tf.constant(y), state)
            losses.append(loss)
        log.train_loss.append(float(tf.reduce_mean(losses)))
        log.val_loss.append(char_loss(char_model, val_ids, seq_len, batch_size, carry_state=True))
        log.epoch_seconds.append(time.perf_counter() - start)
    return log
