import math

import pytest

from utils.stats import MIN_RUNS, paired_difference, t_quantile


@pytest.mark.parametrize("n, quantile", [(2, 12.7062), (3, 4.3027), (5, 2.7764), (10, 2.2622), (30, 2.0452)])
def test_t_quantiles_match_the_tables(n, quantile):
    # two-sided 95 %: the 0.975 quantile of Student's t with n - 1 degrees of freedom
    assert t_quantile(n) == pytest.approx(quantile, abs=1e-4)


def test_mean_interval_and_what_is_shown():
    three = paired_difference([0.9, 0.92, 0.91], [0.8, 0.81, 0.8])
    assert three.differences == pytest.approx((0.1, 0.11, 0.11))
    assert three.mean == pytest.approx(0.32 / 3)
    assert three.standard_error == pytest.approx(0.0057735 / 3**0.5, rel=1e-4)  # std (ddof 1) / sqrt(3)
    half = 4.302653 * three.standard_error
    assert three.interval == pytest.approx((three.mean - half, three.mean + half))
    assert three.describe("{:+.1f}", scale=100) == "+10.7 (95 % interval +9.2 to +12.1, n = 3)"
    # an interval far from 0, but three seeds: the rule needs five before it decides
    assert not three.shown and three.low > 0
    assert three.verdict("better", "worse") == "not shown (3 seeds, fewer than the 5 the book's evidence rule needs)"
    five = paired_difference([0.9, 0.92, 0.91, 0.9, 0.93], [0.8, 0.81, 0.8, 0.82, 0.8])
    assert MIN_RUNS == 5 and five.shown and five.verdict("better", "worse") == "better"
    assert paired_difference([0.8, 0.81, 0.8, 0.8, 0.82], [0.9, 0.92, 0.9, 0.91, 0.9]).verdict("better", "worse") == "worse"


def test_beyond_twice_the_standard_error_is_not_enough_with_three_seeds():
    # mean / standard error = 3: the old rule (> 2) called it shown; t(2 df) needs > 4.30
    d = paired_difference([3.0, 1.0, 2.0], [0.0, 0.0, 0.0])
    assert d.mean / d.standard_error == pytest.approx(2 / (1 / 3**0.5))
    assert d.low < 0 < d.high and not d.shown
    wide = paired_difference([3.0, 1.0, 2.0, -1.0, 4.0], [0.0] * 5)
    assert wide.low < 0 < wide.high and wide.verdict("a", "b") == "not shown (the 95 % interval includes 0)"


def test_noise_and_a_single_seed_show_nothing():
    noisy = paired_difference([0.9, 0.8, 0.85], [0.85, 0.86, 0.84])
    assert not noisy.shown and noisy.verdict("better", "worse", "no gain").startswith("no gain (3 seeds")
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
