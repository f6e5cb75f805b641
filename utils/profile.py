"""Run profiles: ``smoke`` (tiny data, one epoch, for CI) and ``full`` (the book's runs).

The profile comes from one environment variable, ``RNNBOOK_PROFILE``; a reader who sets
nothing gets ``full``. Every chapter's sizes live in :data:`CHAPTER_SIZES`, so the two
profiles of a chapter can be compared at a glance and no notebook hides a size.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any, Mapping

PROFILE_ENV = "RNNBOOK_PROFILE"
PROFILES = ("smoke", "full")
DEFAULT_PROFILE = "full"


class ProfileError(ValueError):
    """An unknown profile name or chapter."""


# chapter (notebook stem) -> profile -> sizes. Keys are the same in both profiles.
CHAPTER_SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "01_bptt": {
        "smoke": {
            "gradient_draws": 1,  # random recurrent matrices per spectral radius
            "max_lag": 30,  # time lags plotted for vanishing/exploding gradients
            "echo_lag": 8,  # k, the lag the echo task must bridge
            "truncation_lengths": (2, 8, 12),  # tau values swept
            "echo_streams": 16,  # parallel sequences (the batch)
            "echo_train_steps": 240,  # training time steps per stream
            "echo_eval_steps": 200,
            "echo_units": 32,
            "learning_rate": 0.005,
            "curve_points": 2,  # validation points per learning curve
        },
        "full": {
            "gradient_draws": 5,
            "max_lag": 60,
            "echo_lag": 8,
            "truncation_lengths": (2, 4, 6, 8, 9, 10, 12, 16, 24),
            "echo_streams": 32,
            "echo_train_steps": 8_000,
            "echo_eval_steps": 2_000,
            "echo_units": 32,
            "learning_rate": 0.005,
            "curve_points": 40,
        },
    },
}


def current_profile() -> str:
    """The active profile name, from ``RNNBOOK_PROFILE`` (default ``full``)."""
    name = os.environ.get(PROFILE_ENV, "").strip().lower() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ProfileError(
            f"{PROFILE_ENV}={name!r} is not a profile; use one of {', '.join(PROFILES)}"
        )
    return name


class Sizes(Mapping[str, Any]):
    """Read-only sizes of one chapter in one profile; keys also work as attributes."""

    def __init__(self, chapter: str, profile: str, values: Mapping[str, Any]):
        self.chapter = chapter
        self.profile = profile
        self._values = MappingProxyType(dict(values))

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"{self.chapter} has no size named {key!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Sizes({self.chapter}, {self.profile}: {items})"


def chapter_sizes(chapter: str, profile: str | None = None) -> Sizes:
    """The sizes of `chapter` in `profile` (default: the active profile)."""
    profile = current_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ProfileError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    if chapter not in CHAPTER_SIZES:
        raise ProfileError(f"no sizes declared for chapter {chapter!r} in utils/profile.py")
    return Sizes(chapter, profile, CHAPTER_SIZES[chapter][profile])
