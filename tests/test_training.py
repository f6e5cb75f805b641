import keras
import numpy as np
import pytest

from utils.training import EpochHistory, fit_timed


def test_fit_timed_records_one_time_and_each_metric_per_epoch():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    history = fit_timed(model, x, y, epochs=3, batch_size=16, validation_split=0.25)
    assert history.epochs == 3 and all(s > 0 for s in history.seconds)
    assert len(history["loss"]) == len(history["val_loss"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    with pytest.raises(KeyError, match="no metric 'accuracy'"):
        history["accuracy"]


def test_epoch_history_is_a_keras_callback():
    assert isinstance(EpochHistory(), keras.callbacks.Callback)
