"""Reproducibility: one call seeds every random number generator the book uses."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 42, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras; optionally make TF ops deterministic.

    Op determinism costs little on a CPU and makes a rerun give the same numbers,
    which the book's freshness check and its reported figures rely on.
    """
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this one is already running
    random.seed(seed)
    np.random.seed(seed)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # also seeds python, numpy and tf
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
