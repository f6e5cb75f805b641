import numpy as np
import pytest

from chapter_code import ch01_bptt as bptt


@pytest.fixture
def problem():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2, 6, 3))
    params = bptt.init_params(3, 4, rng)
    targets = rng.normal(size=(2, 6, 4))
    return X, params, targets


def test_numpy_bptt_matches_finite_differences_and_the_tape(problem):
    X, params, targets = problem
    steps = (3, 5)
    result = bptt.rnn_bptt(X, params, targets, steps)
    numeric = bptt.central_differences(lambda p: bptt.rnn_cost(bptt.rnn_forward(X, p), targets, steps), params)
    tape = bptt.tape_gradients(X, params, targets, steps)
    for name in params:
        assert bptt.relative_error(result.grads[name], numeric[name]) < 1e-6
        assert bptt.relative_error(result.grads[name], tape[name]) < 1e-12


def test_forward_matches_keras_simple_rnn(problem):
    X, params, _ = problem
    keras_out = bptt.keras_simple_rnn(params)(X).numpy()
    np.testing.assert_allclose(bptt.rnn_forward(X, params), keras_out, atol=1e-12)


def test_no_direct_error_after_the_last_cost_step_and_before_the_first(problem):
    X, params, targets = problem
    result = bptt.rnn_bptt(X, params, targets, (2, 3))
    assert np.all(result.direct_output_grad[[0, 1, 4, 5]] == 0)
    assert np.all(result.backprop_grad[4:] == 0)  # nothing flows back from unused later outputs
    assert np.all(result.backprop_grad[:2] > 0)  # but earlier steps get error through h
    np.testing.assert_allclose(result.per_step["Wh"].sum(0), result.grads["Wh"])


def test_input_gradient_matches_finite_differences(problem):
    X, params, targets = problem
    result = bptt.rnn_bptt(X, params, targets, (5,))
    eps = 1e-6
    Xp, Xm = X.copy(), X.copy()
    Xp[1, 2, 0] += eps
    Xm[1, 2, 0] -= eps
    cost = lambda x: bptt.rnn_cost(bptt.rnn_forward(x, params), targets, (5,))  # noqa: E731
    assert abs((cost(Xp) - cost(Xm)) / (2 * eps) - result.input_grad[1, 2, 0]) < 1e-7


@pytest.mark.parametrize("steps", [(), (-1,), (6,)])
def test_bad_cost_steps(problem, steps):
    X, params, targets = problem
    with pytest.raises(ValueError, match="cost steps"):
        bptt.rnn_bptt(X, params, targets, steps)


def test_relative_error():
    assert bptt.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert bptt.relative_error(np.array([1.0, 0]), np.array([0.0, 0])) == 1.0


def test_recurrent_matrix_has_the_requested_spectral_radius():
    matrix = bptt.recurrent_matrix(32, 1.3, np.random.default_rng(0))
    assert np.max(np.abs(np.linalg.eigvals(matrix))) == pytest.approx(1.3)
    with pytest.raises(ValueError):
        bptt.recurrent_matrix(4, 0.0, np.random.default_rng(0))


def test_linear_rnn_gradient_decays_below_and_grows_above_radius_one():
    small = bptt.gradient_norm_vs_lag(0.5, 20, activation=None, n_units=16)
    large = bptt.gradient_norm_vs_lag(1.5, 20, activation=None, n_units=16)
    assert small[-1] < 1e-3 * small[0] and large[-1] > 1e2 * large[0]


def test_echo_data_targets_are_the_inputs_lag_steps_earlier():
    x, y, mask = bptt.echo_data(3, 20, 4, seed=0)
    np.testing.assert_array_equal(y[:, 4:], x[:, :-4])
    assert mask[:, :4].sum() == 0 and mask[:, 4:].min() == 1
    assert set(np.unique(x)) == {0.0, 1.0}
    with pytest.raises(ValueError):
        bptt.echo_data(1, 5, 5, seed=0)


def test_truncated_training_learns_a_short_echo_and_records_a_curve():
    run = bptt.train_truncated(6, lag=2, units=16, streams=16, train_steps=1200, eval_steps=200,
                               curve_points=3, learning_rate=0.01, seed=0)
    assert run.steps_seen == [0, 400, 800, 1200] and run.updates == 200
    assert run.val_accuracy[-1] > 0.9  # chance is 0.5
    with pytest.raises(ValueError):
        bptt.train_truncated(0, 2, 4, 2, 10, 10, 1, 0.01)


@pytest.mark.parametrize("changes, message", [
    ({"curve_points": 0}, "curve_points"),  # recorded only the untrained model
    ({"curve_points": -1}, "curve_points"),
    ({"curve_points": 41}, "curve_points"),  # more points than training steps
    ({"learning_rate": float("nan")}, "learning_rate"),  # trained NaN weights, reported 0.6
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": float("inf")}, "learning_rate"),
    ({"streams": 0}, "streams"),  # every accuracy was NaN
    ({"units": 0}, "units"),
    ({"units": True}, "units"),
    ({"truncation": 2.5}, "truncation"),
    ({"train_steps": 2}, "train_steps"),  # no step past the lag
    ({"eval_steps": 0}, "eval_steps"),
    ({"lag": 0}, "lag"),
])
def test_bad_training_arguments_are_clear_errors_before_training(changes, message):
    arguments = dict(truncation=4, lag=2, units=4, streams=2, train_steps=40, eval_steps=20,
                     curve_points=2, learning_rate=0.01, seed=0) | changes
    with pytest.raises(ValueError, match=message):
        bptt.train_truncated(**arguments)


@pytest.mark.parametrize("radius", [float("nan"), float("inf"), 0.0, -1.0, "2"])
def test_a_bad_spectral_radius_is_a_clear_error(radius):
    with pytest.raises(ValueError, match="spectral_radius"):
        bptt.recurrent_matrix(3, radius, np.random.default_rng(0))
    assert np.isfinite(bptt.recurrent_matrix(3, 0.9, np.random.default_rng(0))).all()
