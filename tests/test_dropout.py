import keras
import numpy as np
import pytest

from chapter_code.ch06_dropout import DropoutCellWrapper, PassThroughCell, check_keep_prob, deep_gru_classifier

WIDTH, STEPS, BATCH = 500, 8, 10


def _wrapped(seed=3, **keep):
    return keras.layers.RNN(DropoutCellWrapper(PassThroughCell(WIDTH), seed=seed, **keep), return_sequences=True)


def test_inference_is_the_identity():
    x = np.random.default_rng(0).normal(size=(BATCH, STEPS, WIDTH)).astype("float32")
    layer = _wrapped(input_keep_prob=0.5, output_keep_prob=0.6, state_keep_prob=0.7)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)  # training defaults to False


@pytest.mark.parametrize("keep_prob", [0.5, 0.7, 0.9])
def test_training_drops_the_right_fraction_and_scales_the_rest(keep_prob):
    x = np.ones((BATCH, STEPS, WIDTH), "float32")
    y = np.asarray(_wrapped(input_keep_prob=keep_prob)(x, training=True))
    n = y.size  # 40,000 Bernoulli draws: the kept fraction's standard error is below 0.0025
    kept = np.count_nonzero(y) / n
    assert abs(kept - keep_prob) < 4 * np.sqrt(keep_prob * (1 - keep_prob) / n)
    np.testing.assert_allclose(y[y != 0], 1 / keep_prob, rtol=1e-6)
    # a new mask at every step (TF1's default), not one mask per sequence
    assert not np.array_equal(y[:, 0] == 0, y[:, 1] == 0)


def test_input_and_output_dropout_compose():
    x = np.ones((BATCH, STEPS, WIDTH), "float32")
    y = np.asarray(_wrapped(input_keep_prob=0.8, output_keep_prob=0.5)(x, training=True))
    assert abs(np.count_nonzero(y) / y.size - 0.4) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.4, rtol=1e-5)


def test_state_dropout_leaves_an_lstm_memory_cell_alone():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(4, 5, 3)).astype("float32")
    cell = DropoutCellWrapper(keras.layers.LSTMCell(64), state_keep_prob=0.5, seed=0)
    _, (h, c) = cell(x[:, 0], cell.get_initial_state(4), training=True)
    assert np.mean(np.asarray(h) == 0) > 0.3 and np.mean(np.asarray(c) == 0) < 0.05


@pytest.mark.parametrize("bad", [0, -0.1, 1.01, float("nan"), "half", None, "0.5", True])
def test_keep_prob_outside_0_1_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        DropoutCellWrapper(PassThroughCell(3), input_keep_prob=bad)
    with pytest.raises(ValueError):
        check_keep_prob("state_keep_prob", bad)


def test_not_a_cell_is_a_type_error():
    with pytest.raises(TypeError):
        DropoutCellWrapper(keras.layers.Dense(3))


def test_wrapper_trains_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 3)),
                              keras.layers.RNN(DropoutCellWrapper(keras.layers.GRUCell(8), 0.8, 0.8, 0.8, seed=1)),
                              keras.layers.Dense(1)])
    model.compile("adam", "mse")
    x, y = np.ones((16, 6, 3), "float32"), np.ones((16, 1), "float32")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert again.layers[0].cell.input_keep_prob == 0.8


@pytest.mark.parametrize("changes, message", [
    ({"layers": 0}, "layers"),  # ended in an IndexError inside Keras
    ({"layers": -1}, "layers"),
    ({"layers": 1.5}, "layers"),
    ({"units": 0}, "units"),
    ({"embedding_dim": True}, "embedding_dim"),
    ({"vocabulary_size": 1}, "vocabulary_size"),
    ({"keep_prob": "0.5"}, "keep_prob"),
])
def test_bad_classifier_sizes_are_clear_errors(changes, message):
    arguments = dict(vocabulary_size=20, embedding_dim=4, units=4, layers=2, keep_prob=0.5) | changes
    with pytest.raises(ValueError, match=message):
        deep_gru_classifier(**arguments)
    assert deep_gru_classifier(20, 4, 4, 2, 0.5).count_params() > 0
