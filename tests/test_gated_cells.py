import keras
import numpy as np
import pytest

from chapter_code.ch07_lstm_gru import (
    PeepholeLSTMCell,
    accuracy_by_distance,
    adding_problem,
    delayed_recall,
    gru_sequence,
    interval_reproduction,
    keras_gru_to_textbook,
    lstm_sequence,
    recall_task,
    spike_timing_accuracy,
    tf1_gru_sequence,
    tf1_gru_to_keras,
    tf1_lstm_sequence,
    tf1_lstm_to_keras,
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
    with pytest.raises(ValueError, match="2 \\* longest < length"):
        interval_reproduction(4, 10, 2, 5, RNG)
    with pytest.raises(ValueError, match="TF1 LSTM kernel"):
        tf1_lstm_sequence(X, np.zeros((4, 20)), np.zeros(20))
    with pytest.raises(ValueError, match="TF1 GRU kernels"):
        tf1_gru_sequence(X, np.zeros((9, 10)), np.zeros(10), np.zeros((4, 5)), np.zeros(5))
    with pytest.raises(ValueError):
        adding_problem(4, 1, RNG)


def test_tasks():
    x, y = adding_problem(500, 20, np.random.default_rng(5))
    assert x.shape == (500, 20, 2) and y.shape == (500, 1)
    assert np.all(x[..., 1].sum(axis=1) == 2)
    assert np.all(x[:, :10, 1].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    x, y = interval_reproduction(50, 40, 3, 12, np.random.default_rng(6))
    for inputs, target in zip(x[..., 0], y[..., 0]):
        first, second = np.flatnonzero(inputs)
        assert 3 <= second - first <= 12 and target.argmax() == second + (second - first) and target.sum() == 1
    assert spike_timing_accuracy(y, y) == 1.0
    assert spike_timing_accuracy(x, y) == 0.0


def test_tf1_lstm_weights_port_to_keras_only_with_the_forget_bias_moved():
    rng = np.random.default_rng(7)
    kernel, bias = rng.normal(0, 0.3, (4 + 5, 20)), rng.normal(0, 0.1, 20)
    outputs, c, h = tf1_lstm_sequence(X, kernel, bias)
    layer = keras.layers.LSTM(5, return_sequences=True, return_state=True, dtype="float64")
    layer(X.astype("float64"))
    layer.set_weights(tf1_lstm_to_keras(kernel, bias, 4))
    ported, ported_h, ported_c = (np.asarray(t) for t in layer(X.astype("float64")))
    assert max(np.max(np.abs(a - b)) for a, b in ((ported, outputs), (ported_h, h), (ported_c, c))) < 1e-12
    layer.set_weights(tf1_lstm_to_keras(kernel, bias, 4, forget_bias=0.0))
    assert np.max(np.abs(np.asarray(layer(X.astype("float64"))[0]) - outputs)) > 1e-3


def test_tf1_gru_weights_port_to_keras_without_a_sign_flip():
    rng = np.random.default_rng(8)
    gates, gate_bias = rng.normal(0, 0.3, (9, 10)), 1.0 + rng.normal(0, 0.1, 10)
    candidate, candidate_bias = rng.normal(0, 0.3, (9, 5)), rng.normal(0, 0.1, 5)
    expected = tf1_gru_sequence(X, gates, gate_bias, candidate, candidate_bias)[0]
    layer = keras.layers.GRU(5, reset_after=False, return_sequences=True, dtype="float64")
    layer(X.astype("float64"))
    layer.set_weights(tf1_gru_to_keras(gates, gate_bias, candidate, candidate_bias, 4))
    assert np.max(np.abs(np.asarray(layer(X.astype("float64"))) - expected)) < 1e-12
    layer.set_weights(tf1_gru_to_keras(gates, gate_bias, candidate, candidate_bias, 4, negate_update=True))
    assert np.max(np.abs(np.asarray(layer(X.astype("float64"))) - expected)) > 1e-3


def test_recall_task_marks_one_step_and_asks_for_its_sign():
    x, y, positions = recall_task(400, 30, np.random.default_rng(8))
    assert x.shape == (400, 30, 2) and y.shape == (400, 1) and positions.shape == (400,)
    assert np.all(x[..., 1].sum(axis=1) == 1)
    np.testing.assert_array_equal(x[..., 1].argmax(axis=1), positions)
    assert set(np.unique(x[..., 0])) == {-1.0, 1.0}
    np.testing.assert_array_equal(y[:, 0], x[np.arange(400), positions, 0] > 0)
    assert positions.min() == 0 and positions.max() == 29  # the first and the last step can be marked
    with pytest.raises(ValueError):
        recall_task(0, 30, np.random.default_rng(0))


def test_accuracy_by_distance_reads_each_range_on_its_own():
    distances = np.array([0, 1, 2, 5, 6, 9, 9])
    correct = np.array([1, 1, 0, 1, 0, 0, 0], dtype=bool)
    means, edges = accuracy_by_distance(correct, distances, bins=2, length=10)
    np.testing.assert_array_equal(edges, [0, 5, 10])
    np.testing.assert_allclose(means, [2 / 3, 1 / 4])
    means, _ = accuracy_by_distance(correct[:3], distances[:3], bins=2, length=10)
    assert means[0] == pytest.approx(2 / 3) and np.isnan(means[1])  # an empty range is not 0 %


def test_delayed_recall_targets_are_the_inputs_k_steps_back():
    x, y = delayed_recall(5, 12, 3, np.random.default_rng(9))
    assert x.shape == (5, 12, 1) and y.shape == (5, 12, 3)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(y[:, k:, k - 1], x[:, :-k, 0] > 0)
    with pytest.raises(ValueError):
        delayed_recall(5, 12, 0, np.random.default_rng(9))
