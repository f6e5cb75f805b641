import math

import pytest

from utils.stats import paired_difference, t_quantile


@pytest.mark.parametrize("n, quantile", [(2, 12.7062), (3, 4.3027), (5, 2.7764), (10, 2.2622), (30, 2.0452)])
def test_t_quantiles_match_the_tables(n, quantile):
    # two-sided 95 %: the 0.975 quantile of Student's t with n - 1 degrees of freedom
    assert t_quantile(n) == pytest.approx(quantile, abs=1e-4)


def test_mean_interval_and_what_is_shown():
    clear = paired_difference([0.9, 0.92, 0.91], [0.8, 0.81, 0.8])
    assert clear.differences == pytest.approx((0.1, 0.11, 0.11))
    assert clear.mean == pytest.approx(0.32 / 3)
    assert clear.standard_error == pytest.approx(0.0057735 / 3**0.5, rel=1e-4)  # std (ddof 1) / sqrt(3)
    half = 4.302653 * clear.standard_error
    assert clear.interval == pytest.approx((clear.mean - half, clear.mean + half))
    assert clear.shown and clear.verdict("better", "worse") == "better"
    assert clear.describe("{:+.1f}", scale=100) == "+10.7 (95 % interval +9.2 to +12.1, n = 3)"
    assert paired_difference([0.8, 0.81], [0.9, 0.92]).verdict("better", "worse") == "worse"


def test_beyond_twice_the_standard_error_is_not_enough_with_three_seeds():
    # mean / standard error = 3: the old rule (> 2) called it shown; t(2 df) needs > 4.30
    d = paired_difference([3.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    assert d.mean / d.standard_error == pytest.approx(2 / (1 / 3**0.5))
    assert d.low < 0 < d.high and not d.shown


def test_noise_and_a_single_seed_show_nothing():
    noisy = paired_difference([0.9, 0.8, 0.85], [0.85, 0.86, 0.84])
    assert not noisy.shown and noisy.verdict("better", "worse", "not shown") == "not shown"
    single = paired_difference([0.99], [0.5])
    assert single.standard_error == 0.0 and not single.shown
    assert single.interval == (-math.inf, math.inf) and "unbounded" in single.describe()
    with pytest.raises(ValueError):
        t_quantile(1)


def test_inputs_must_pair_up():
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        paired_difference([], [])
