import pytest

from utils.stats import paired_difference


def test_mean_standard_error_and_what_is_shown():
    clear = paired_difference([0.9, 0.92, 0.91], [0.8, 0.81, 0.8])
    assert clear.differences == pytest.approx((0.1, 0.11, 0.11))
    assert clear.mean == pytest.approx(0.32 / 3)
    assert clear.standard_error == pytest.approx(0.0057735 / 3**0.5, rel=1e-4)  # std (ddof 1) / sqrt(3)
    assert clear.shown and clear.verdict("better", "worse") == "better"
    assert paired_difference([0.8, 0.81], [0.9, 0.92]).verdict("better", "worse") == "worse"


def test_noise_and_a_single_seed_show_nothing():
    noisy = paired_difference([0.9, 0.8, 0.85], [0.85, 0.86, 0.84])
    assert not noisy.shown and noisy.verdict("better", "worse", "not shown") == "not shown"
    single = paired_difference([0.99], [0.5])
    assert single.standard_error == 0.0 and not single.shown


def test_inputs_must_pair_up():
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        paired_difference([], [])
