"""A character-level language model on tiny-shakespeare, and sampling with a temperature."""

from __future__ import annotations

import math
import numbers
import sys
from dataclasses import dataclass, field

import numpy as np

from .training import JIT_COMPILE, book_dataset, fit_timed


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


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / temperature) along the last axis, computed stably in float64."""
    temperature = check_temperature(temperature)
    logits = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):
        scaled = logits / temperature
    if not np.isfinite(scaled).all():  # inf - inf would make the probabilities NaN
        raise ValueError(f"logits / temperature is not finite (temperature {temperature!r}, "
                         f"largest |logit| {np.abs(logits).max()!r}): check the logits or raise the temperature")
    scaled -= scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_with_temperature(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Draw one index from softmax(logits / temperature).

    Low temperatures approach the arg-max (safe, repetitive text), high ones approach
    uniform sampling (varied, then garbled).
    """
    probabilities = softmax_with_temperature(logits, temperature)
    return int(rng.choice(len(probabilities), p=probabilities))


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


def window_dataset(ids: np.ndarray, seq_len: int, batch_size: int, seed: int):
    """Shuffled windows of `seq_len` + 1 ids as (inputs, next-character targets)."""
    import tensorflow as tf

    if len(ids) <= seq_len + 1:
        raise ValueError("the text is shorter than one window")
    ds = tf.data.Dataset.from_tensor_slices(ids).batch(seq_len + 1, drop_remainder=True)
    ds = ds.shuffle(10_000, seed=seed).batch(batch_size, drop_remainder=True)
    return book_dataset(ds.map(lambda w: (w[:, :-1], w[:, 1:])))


class CharModel:
    """Embedding -> GRU -> Dense over the vocabulary; trains on windows, generates step by step."""

    def __init__(self, vocabulary_size: int, embedding_dim: int = 64, units: int = 256):
        import keras

        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim)
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)
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

        check_temperature(temperature)
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"length must be an integer >= 0, got {length!r}")  # -5 gave ''
        if not prime:
            raise ValueError("prime must hold at least one character")
        rng = np.random.default_rng(seed)
        step = tf.function(self.step_logits)  # one graph for all single-character steps
        logits, state = self.step_logits(tf.constant(vocabulary.encode(prime)[None]), None)
        out = []
        for _ in range(length):
            next_id = sample_with_temperature(logits.numpy()[0], temperature, rng)
            out.append(next_id)
            logits, state = step(tf.constant([[next_id]], dtype=tf.int32), [state])
        return vocabulary.decode(out)


@dataclass
class CharTrainingLog:
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
