import numpy as np
import pytest

from chapter_code import ch02_mnist_rnn as mnist_rnn


def test_sequences_are_scaled_rows():
    images = np.full((2, 28, 28), 255, np.uint8)
    seq = mnist_rnn.as_sequences(images)
    assert seq.dtype == np.float32 and seq.shape == (2, 28, 28) and seq.max() == 1.0
    with pytest.raises(ValueError, match="shape"):
        mnist_rnn.as_sequences(np.zeros((2, 784), np.uint8))


@pytest.mark.parametrize("kwargs", [{"cell": "tcn"}, {"schedule": "step"}, {"units": 0}])
def test_bad_recipes_are_clear_errors(kwargs):
    with pytest.raises(ValueError):
        mnist_rnn.Recipe(**kwargs)


def test_random_shift_moves_each_image_within_bounds_and_only_in_training():
    images = np.zeros((64, 28, 28), np.float32)
    images[:, 14, 14] = 1.0
    layer = mnist_rnn.RandomShift(2, seed=0)
    shifted = np.asarray(layer(images, training=True))
    positions = np.argwhere(shifted == 1.0)[:, 1:]
    assert len(positions) == 64 and np.abs(positions - 14).max() <= 2
    assert len({tuple(p) for p in positions}) > 5  # each image draws its own shift
    np.testing.assert_array_equal(np.asarray(layer(images, training=False)), images)


@pytest.mark.parametrize("cell", ["simple", "gru", "lstm"])
def test_classifier_shapes_and_parameters(cell):
    model = mnist_rnn.build_classifier(mnist_rnn.Recipe(cell=cell, units=8))
    gates = {"simple": 1, "gru": 3, "lstm": 4}[cell]
    rnn = gates * (28 * 8 + 8 * 8 + 8) + (gates * 8 if cell == "gru" else 0)  # GRU: reset_after bias
    assert model.count_params() == rnn + 8 * 10 + 10
    assert model(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)


def test_training_logs_every_epoch_and_beats_chance():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    x = (0.1 * rng.random((300, 28, 28))).astype(np.float32)
    x[y == 1, :4] += 1.0  # class 1: bright first rows, read early in the sequence
    log = mnist_rnn.train_classifier(mnist_rnn.Recipe(units=16, learning_rate=1e-2, batch_size=30),
                                     x[:200], y[:200], x[200:], y[200:], epochs=3)
    assert len(log.test_accuracy) == len(log.train_accuracy) == len(log.epoch_seconds) == 3
    assert log.test_accuracy[-1] > 0.9 and log.seconds_per_epoch > 0
    with pytest.raises(ValueError):
        mnist_rnn.train_classifier(mnist_rnn.Recipe(), x, y, x, y, epochs=0)
