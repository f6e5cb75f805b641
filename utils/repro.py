"""Reproducibility: one call seeds every random number generator the book uses."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 42) -> None:
    """Seed Python, NumPy, TensorFlow and Keras.

    TensorFlow's op determinism stays off, by the book's policy (see ``utils.training``): it
    makes Keras refuse XLA, and on a CPU a rerun gives the same numbers without it, which
    ``python -m utils.freshness reproduce`` checks chapter by chapter.
    """
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this one is already running
    random.seed(seed)
    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)  # also seeds python, numpy and tf
