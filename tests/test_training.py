import keras
import numpy as np
import pytest
import tensorflow as tf

from utils import training
from utils.repro import seed_everything
from utils.timing import Contender, alternate
from utils.training import EpochHistory, array_dataset, book_dataset, fit_timed


def _linear_data(n=64):
    x = np.random.default_rng(0).normal(size=(n, 3)).astype("float32")
    return x, x @ np.array([1.0, -2.0, 0.5], "float32")


def test_fit_timed_records_one_time_and_each_metric_per_epoch():
    keras.utils.set_random_seed(0)
    x, y = _linear_data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse", jit_compile=training.JIT_COMPILE)
    history = fit_timed(model, x[:48], y[:48], epochs=3, batch_size=16, validation_data=(x[48:], y[48:]))
    assert history.epochs == 3 and all(s > 0 for s in history.seconds)
    assert len(history["loss"]) == len(history["val_loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert history.steady_seconds == pytest.approx(float(np.median(history.seconds[1:])))
    with pytest.raises(KeyError, match="no metric 'accuracy'"):
        history["accuracy"]
    with pytest.raises(ValueError, match="needs a batch_size"):
        fit_timed(model, x, y, epochs=1)


def test_epoch_history_is_a_keras_callback():
    assert isinstance(EpochHistory(), keras.callbacks.Callback)
    with pytest.raises(ValueError, match="no epoch"):
        EpochHistory().steady_seconds


def test_book_datasets_run_without_the_autotuner_and_reshuffle_from_their_seed():
    x, y = np.arange(10, dtype="float32"), np.arange(10)
    data = array_dataset(x, y, 4, shuffle_seed=3)
    assert data.options().autotune.enabled is False
    assert book_dataset(tf.data.Dataset.range(3)).options().autotune.enabled is False
    epoch_1 = np.concatenate([b.numpy() for b, _ in data])
    epoch_2 = np.concatenate([b.numpy() for b, _ in data])
    assert sorted(epoch_1) == list(range(10)) and not np.array_equal(epoch_1, epoch_2)  # reshuffled
    again = np.concatenate([b.numpy() for b, _ in array_dataset(x, y, 4, shuffle_seed=3)])
    assert np.array_equal(epoch_1, again)  # the same seed, the same order
    assert [len(b) for b, _ in array_dataset(x, y, 4)] == [4, 4, 2]
    inputs = np.concatenate([a.numpy() for (a, _), _ in array_dataset((x, x), y, 4)])
    assert np.array_equal(inputs, x)  # two inputs, in order without a seed
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            array_dataset(x, y, bad)
    with pytest.raises(ValueError, match="10 inputs but 9 targets"):
        array_dataset(x, y[:9], 4)


def test_the_speed_policy_is_xla_without_op_determinism():
    assert training.SPEED_SETTINGS == {"jit_compile": True, "op_determinism": False, "tf_data_autotune": False,
                                       "prefetch_batches": training.PREFETCH_BATCHES}
    seed_everything(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", jit_compile=training.JIT_COMPILE)
    assert model.jit_compile is True  # with op determinism on, Keras would have turned it off


def test_alternate_interleaves_rotates_and_records_setup():
    order = []

    def contender(name):
        return Contender(name, lambda: order.append(name) or 5, setup=lambda: order.append(f"setup {name}"))

    timed = alternate([contender("a"), contender("b")], repeats=3, warmup=0)
    assert order == ["setup a", "setup b", "a", "b", "b", "a", "a", "b"]
    assert [len(c.seconds) for c in timed] == [3, 3] and timed[0].samples == [5, 5, 5]
    assert timed[0].seconds_per_sample == [s / 5 for s in timed[0].seconds]
    with pytest.raises(ValueError):
        alternate([contender("a")], repeats=0)
