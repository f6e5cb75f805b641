import keras
import numpy as np
import pytest

from utils.gated_cells import (
    PeepholeLSTMCell,
    adding_problem,
    delayed_spike,
    gru_sequence,
    keras_gru_to_textbook,
    lstm_sequence,
    spike_timing_accuracy,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 7, 4)).astype("float32")


def test_lstm_equations_match_keras():
    keras.utils.set_random_seed(1)
    layer = keras.layers.LSTM(5, return_sequences=True, return_state=True)
    outputs, h, c = (np.asarray(t) for t in layer(X))
    mine = lstm_sequence(X, *layer.get_weights())
    for got, expected in zip(mine, (outputs, h, c)):
        assert np.max(np.abs(got - expected)) < 1e-5


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_equations_match_keras_in_both_forms(reset_after):
    keras.utils.set_random_seed(2)
    layer = keras.layers.GRU(5, reset_after=reset_after, return_sequences=True)
    expected = np.asarray(layer(X))
    weights = layer.get_weights()
    assert np.max(np.abs(gru_sequence(X, *weights, reset_after=reset_after)[0] - expected)) < 1e-5
    textbook = gru_sequence(X, *keras_gru_to_textbook(*weights), reset_after=reset_after, form="textbook")[0]
    assert np.max(np.abs(textbook - expected)) < 1e-5


def test_reset_position_matters():
    keras.utils.set_random_seed(3)
    layer = keras.layers.GRU(5, reset_after=True)
    layer(X)
    kernel, recurrent, bias = layer.get_weights()
    before = gru_sequence(X, kernel, recurrent, bias[0] + bias[1], reset_after=False)[1]
    after = gru_sequence(X, kernel, recurrent, bias, reset_after=True)[1]
    assert np.max(np.abs(before - after)) > 1e-3


def test_peephole_cell_matches_its_numpy_equations_and_zero_peepholes_give_lstm():
    keras.utils.set_random_seed(4)
    layer = keras.layers.RNN(PeepholeLSTMCell(6), return_sequences=True)
    outputs = np.asarray(layer(X))
    kernel, recurrent, bias, w_ci, w_cf, w_co = layer.get_weights()
    reference = lstm_sequence(X, kernel, recurrent, bias, peepholes=(w_ci, w_cf, w_co))[0]
    assert np.max(np.abs(outputs - reference)) < 1e-5
    assert np.max(np.abs(lstm_sequence(X, kernel, recurrent, bias)[0] - reference)) > 1e-4
    layer.set_weights([kernel, recurrent, bias] + [np.zeros_like(w_ci)] * 3)
    plain = keras.layers.LSTM(6, return_sequences=True)
    plain(X)
    plain.set_weights([kernel, recurrent, bias])
    assert np.max(np.abs(np.asarray(layer(X)) - np.asarray(plain(X)))) < 1e-5


def test_bad_arguments():
    with pytest.raises(ValueError):
        PeepholeLSTMCell(0)
    with pytest.raises(ValueError, match="weights do not match"):
        lstm_sequence(X, np.zeros((3, 20)), np.zeros((5, 20)), np.zeros(20))
    with pytest.raises(ValueError, match="bias"):
        gru_sequence(X, np.zeros((4, 15)), np.zeros((5, 15)), np.zeros(15), reset_after=True)
    with pytest.raises(ValueError, match="form"):
        gru_sequence(X, np.zeros((4, 15)), np.zeros((5, 15)), np.zeros(15), reset_after=False, form="cudnn")
    with pytest.raises(ValueError):
        delayed_spike(4, 10, 10, RNG)
    with pytest.raises(ValueError):
        adding_problem(4, 1, RNG)


def test_tasks():
    x, y = adding_problem(500, 20, np.random.default_rng(5))
    assert x.shape == (500, 20, 2) and y.shape == (500, 1)
    assert np.all(x[..., 1].sum(axis=1) == 2)
    assert np.all(x[:, :10, 1].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    x, y = delayed_spike(50, 30, 12, np.random.default_rng(6))
    assert np.all(y[..., 0].argmax(1) - x[..., 0].argmax(1) == 12)
    assert spike_timing_accuracy(y, y) == 1.0
    assert spike_timing_accuracy(x, y) == 0.0
