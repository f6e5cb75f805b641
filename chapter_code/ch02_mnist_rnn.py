"""Training a sequence classifier · 训练一个序列分类器: the code the chapter defines and others reuse.

Generated from chapters/02_mnist_rnn.ipynb by tools/export_chapters.py: do not edit.
Edit the cells marked ``#| export`` in the notebook and run ``make export``.
"""

from __future__ import annotations

# chapters/02_mnist_rnn.ipynb, cell 6
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

N_STEPS = N_INPUTS = 28
N_CLASSES = 10
CELL_KINDS = ("simple", "lstm", "gru")


def as_sequences(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 sequences in [0, 1]: 28 steps of 28 pixels."""
    if images.ndim != 3 or images.shape[1:] != (N_STEPS, N_INPUTS):
        raise ValueError(f"expected images of shape (N, 28, 28), got {images.shape}")
    return images.astype(np.float32) / 255.0


# chapters/02_mnist_rnn.ipynb, cell 8
@dataclass(frozen=True)
class Recipe:
    """How a sequence classifier is built and trained."""

    cell: str = "simple"  # simple, lstm or gru
    units: int = 150
    kernel_initializer: str = "glorot_uniform"  # Keras's default for the input weights
    recurrent_initializer: str = "orthogonal"  # Keras's default for the recurrent weights
    # When set, both weight matrices start from a truncated normal of this standard deviation
    # instead (the source's He initialisation, see below).
    initializer_stddev: float | None = None
    learning_rate: float = 1e-3
    schedule: str = "constant"  # or "cosine": decays to 0 over the run
    clipnorm: float | None = None
    max_shift: int = 0  # data augmentation: random translation by up to this many pixels
    batch_size: int = 150

    def __post_init__(self):
        _check_recipe(self)


# chapters/02_mnist_rnn.ipynb, cell 9
def _check_recipe(recipe: Recipe) -> None:
    """A clear error for a recipe that names no cell or schedule the book knows, or a non-positive size."""
    if recipe.cell not in CELL_KINDS:
        raise ValueError(f"cell must be one of {CELL_KINDS}, not {recipe.cell!r}")
    if recipe.schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', not {recipe.schedule!r}")
    if recipe.units < 1 or recipe.batch_size < 1 or recipe.learning_rate <= 0:
        raise ValueError("units, batch_size and learning_rate must be positive")


# chapters/02_mnist_rnn.ipynb, cell 11
class RandomShift(keras.layers.Layer):
    """Data augmentation inside the model: while training, each image is translated by its own
    random (dy, dx) in [-max_shift, max_shift] pixels, zero-filled; at inference it does nothing.

    Written with gathers so that it compiles with XLA together with the RNN.
    """

    def __init__(self, max_shift: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if max_shift < 0:
            raise ValueError("max_shift must be >= 0")
        self.max_shift = max_shift
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training or self.max_shift == 0:
            return images
        k = self.max_shift
        batch = tf.shape(images)[0]
        height, width = images.shape[1], images.shape[2]
        padded = tf.pad(images, [[0, 0], [k, k], [k, k]])
        offsets = keras.random.randint((2, batch), 0, 2 * k + 1, seed=self.seed_generator)
        rows = offsets[0][:, None] + tf.range(height)[None, :]
        cols = offsets[1][:, None] + tf.range(width)[None, :]
        shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
        return tf.gather(shifted, cols, axis=2, batch_dims=1)


# chapters/02_mnist_rnn.ipynb, cell 13
def build_classifier(recipe: Recipe) -> keras.Model:
    """RNN(units) over the 28 rows -> Dense(10) logits on the last state: the source's model."""
    layer = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[recipe.cell]
    initializers = {"kernel_initializer": recipe.kernel_initializer,
                    "recurrent_initializer": recipe.recurrent_initializer}
    if recipe.initializer_stddev is not None:  # a new initializer object per matrix: separate draws
        initializers = {name: keras.initializers.TruncatedNormal(stddev=recipe.initializer_stddev)
                        for name in initializers}
    return keras.Sequential([
        keras.Input((N_STEPS, N_INPUTS)),
        RandomShift(recipe.max_shift),
        # Unrolling the 28 steps lets XLA fuse them: measured faster on a CPU for SimpleRNN
        # and GRU, slower for LSTM. It changes speed, not the maths.
        layer(recipe.units, **initializers, unroll=recipe.cell != "lstm"),
        keras.layers.Dense(N_CLASSES),
    ])


# chapters/02_mnist_rnn.ipynb, cell 17
from utils.training import JIT_COMPILE, array_dataset, fit_timed


@dataclass
class TrainingLog:
    """Per-epoch figures of one training run."""

    recipe: Recipe
    seed: int
    train_accuracy: list[float] = field(default_factory=list)  # running mean over each epoch
    test_accuracy: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)  # training only, not the test pass

    @property
    def final_test_accuracy(self) -> float:
        return self.test_accuracy[-1]

    @property
    def seconds_per_epoch(self) -> float:
        """Median training time of an epoch, the first (graph tracing) excluded when possible."""
        return float(np.median(self.epoch_seconds[1:] or self.epoch_seconds))


def train_classifier(recipe: Recipe, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                     y_test: np.ndarray, epochs: int, seed: int = 0, model=None,
                     test_every_epoch: bool = True) -> TrainingLog:
    """Train a fresh classifier with `recipe`; test accuracy after every epoch (or the last only)."""
    if epochs < 1:
        raise ValueError("epochs must be >= 1")
    keras.utils.set_random_seed(seed)
    model = model if model is not None else build_classifier(recipe)
    steps = epochs * int(np.ceil(len(x_train) / recipe.batch_size))
    learning_rate = (keras.optimizers.schedules.CosineDecay(recipe.learning_rate, steps)
                     if recipe.schedule == "cosine" else recipe.learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=recipe.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=JIT_COMPILE, steps_per_execution=20)
    log = TrainingLog(recipe, seed)
    test_data = array_dataset(x_test, y_test, 1000)

    class TestAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if test_every_epoch or epoch == epochs - 1:
                log.test_accuracy.append(float(model.evaluate(test_data, verbose=0)[1]))

    # fit_timed times each epoch before TestAccuracy runs: the test pass is not training time.
    history = fit_timed(model, x_train, y_train, batch_size=recipe.batch_size, shuffle_seed=seed, epochs=epochs,
                        callbacks=[TestAccuracy()])
    log.epoch_seconds.extend(history.seconds)
    log.train_accuracy.extend(history["accuracy"])
    log.model = model  # type: ignore[attr-defined]
    return log
