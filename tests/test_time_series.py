import numpy as np
import pytest

from chapter_code import ch03_time_series as time_series
from chapter_code.ch04_creative_rnn import generate


def test_toy_batch_targets_are_the_inputs_one_step_ahead():
    x, y = time_series.toy_batch(4, np.random.default_rng(0))
    assert x.shape == y.shape == (4, time_series.N_STEPS, 1)
    np.testing.assert_allclose(x[:, 1:], y[:, :-1])


def test_both_heads_compute_the_same_function_with_the_same_weights():
    import keras

    keras.utils.set_random_seed(0)
    projection = time_series.build_toy_model("projection")
    keras.utils.set_random_seed(0)
    stacked = time_series.build_toy_model("stacked")
    stacked.set_weights(projection.get_weights())
    x, _ = time_series.toy_batch(3, np.random.default_rng(1))
    np.testing.assert_allclose(projection(x).numpy(), stacked(x).numpy(), rtol=1e-5, atol=1e-5)
    assert projection.count_params() == stacked.count_params() == 100 + 100 * 100 + 100 + 101


def test_output_projection_cell_projects_every_step():
    import keras

    cell = time_series.OutputProjectionCell(keras.layers.SimpleRNNCell(7), 3)
    out = keras.layers.RNN(cell, return_sequences=True)(np.zeros((2, 5, 4), np.float32))
    assert out.shape == (2, 5, 3)
    with pytest.raises(ValueError):
        time_series.OutputProjectionCell(keras.layers.SimpleRNNCell(7), 0)


def test_bad_heads_are_clear_errors():
    with pytest.raises(ValueError, match="head must be"):
        time_series.build_toy_model("dense")
    with pytest.raises(ValueError, match="only the stacked head"):
        time_series.build_toy_model("projection", layers=2)


def test_alternating_training_lowers_the_mse_and_times_each_block():
    runs = time_series.train_heads_alternating(("projection", "stacked"), iterations=60, batch_size=50,
                                      log_every=20, block=30)
    for run in runs.values():
        assert len(run.block_seconds) == 2 and run.iterations == [0, 20, 40, 59]
        assert run.mse[-1] < run.mse[0]
    np.testing.assert_allclose(runs["projection"].mse, runs["stacked"].mse, rtol=1e-3)
    with pytest.raises(ValueError):
        time_series.train_heads_alternating(("stacked",), iterations=50, batch_size=5, log_every=10, block=30)


def test_generate_feeds_predictions_back():
    class LastValue:  # predicts that the series stays where it is
        def __call__(self, x, training=False):
            return x

    out = generate(LastValue(), np.arange(20, dtype=np.float32), 5)
    np.testing.assert_array_equal(out[20:], [19] * 5)
    with pytest.raises(ValueError, match="at least 20"):
        generate(LastValue(), np.zeros(3), 5)


def test_fill_gaps_windows_and_baselines():
    np.testing.assert_allclose(time_series.fill_gaps(np.array([1.0, np.nan, 3.0])), [1, 2, 3])
    with pytest.raises(ValueError):
        time_series.fill_gaps(np.array([np.nan]))
    x, y = time_series.windows(np.arange(10.0), 4, 2)
    assert x.shape == (5, 4, 1) and y.shape == (5, 2)
    np.testing.assert_array_equal(y[0], [4, 5])
    np.testing.assert_array_equal(time_series.naive_forecast(x, 2)[0], [3, 3])
    with pytest.raises(ValueError):
        time_series.windows(np.arange(3.0), 4, 2)
    x_rel, y_rel = time_series.relative_to_last(x, y, scale=2.0)
    assert x_rel[0, -1, 0] == 0 and y_rel[0, 0] == 0.5


def test_linear_model_recovers_a_linear_recurrence():
    series = np.cumsum(np.ones(50))  # 1, 2, 3, ...: next = last + 1
    x, y = time_series.windows(series, 3, 1)
    weights = time_series.fit_linear(x, y)
    np.testing.assert_allclose(time_series.predict_linear(weights, x), y, atol=1e-4)
    assert time_series.rmse(np.zeros(4), np.full(4, 2.0)) == 2.0


def test_rmse_wants_arrays_of_the_same_shape():
    with pytest.raises(ValueError, match="same shape"):
        time_series.rmse([[0], [1], [2]], [0, 1, 2])  # broadcast to (3, 3): 1.155 instead of 0
    with pytest.raises(ValueError, match="empty"):
        time_series.rmse([], [])
    assert time_series.rmse([[0], [1], [2]], [[0], [1], [2]]) == 0.0


@pytest.mark.parametrize("n_steps, horizon", [(-2, 2), (4, -1), (0, 2), (4, 0), (2.5, 1), (True, 1)])
def test_windows_of_impossible_sizes_are_clear_errors(n_steps, horizon):
    with pytest.raises(ValueError, match="n_steps|horizon"):
        time_series.windows(np.arange(10.0), n_steps, horizon)


def test_windows_want_a_1d_series():
    with pytest.raises(ValueError, match="1-D"):
        time_series.windows(np.zeros((10, 2)), 3, 1)


def test_autoregressive_forecast_feeds_each_prediction_back():
    x = np.arange(12, dtype=np.float32).reshape(2, 6, 1)  # two rising windows, step 1
    # a model that predicts "no change" repeats the last value
    flat = time_series.autoregressive_forecast(lambda rel: np.zeros(len(rel)), x, 4, scale=2.0)
    np.testing.assert_allclose(flat, [[5] * 4, [11] * 4])
    # one that predicts the window's last step again continues the line: it sees its own outputs
    trend = time_series.autoregressive_forecast(lambda rel: rel[:, -1, 0] - rel[:, -2, 0], x, 3, scale=1.0)
    np.testing.assert_allclose(trend, [[6, 7, 8], [12, 13, 14]])
    with pytest.raises(ValueError, match="horizon"):
        time_series.autoregressive_forecast(lambda rel: rel[:, -1, 0], x, 0, scale=1.0)


def test_mixed_resolution_averages_older_steps_more_coarsely():
    x = np.arange(2 * 12, dtype=float).reshape(2, 12, 1)
    mixed = time_series.mixed_resolution(x, ((2, 4), (1, 2), (2, 1)))
    assert mixed.shape == (2, 5, 1)
    np.testing.assert_allclose(mixed[0, :, 0], [1.5, 5.5, 8.5, 10, 11])
    np.testing.assert_allclose(mixed[1, :, 0], 12 + mixed[0, :, 0])
    np.testing.assert_allclose(time_series.mixed_resolution(x, ((12, 1),)), x)  # span 1: unchanged
    for tiers in (((2, 4),), ((0, 12),), ((3, 4), (1, 0))):
        with pytest.raises(ValueError):
            time_series.mixed_resolution(x, tiers)
