import random

import numpy as np

from utils.repro import seed_everything


def _draws():
    import tensorflow as tf

    return random.random(), np.random.rand(), float(tf.random.uniform(()))


def test_same_seed_same_numbers_everywhere():
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    assert _draws() == first
    seed_everything(124)
    assert _draws() != first
