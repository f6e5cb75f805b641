"""Run profiles: ``smoke`` (tiny data, one epoch, for CI) and ``full`` (the book's runs).

The profile comes from one environment variable, ``RNNBOOK_PROFILE``; a reader who sets
nothing gets ``full``. Each chapter's settings (sizes of both profiles, what they mean, the
run-time budgets) live in one small file beside its notebook, ``chapters/<chapter>.toml``,
which the notebook reads with :func:`chapter_settings` and shows in its set-up cell.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .paths import CHAPTERS_DIR

PROFILE_ENV = "RNNBOOK_PROFILE"
PROFILES = ("smoke", "full")
DEFAULT_PROFILE = "full"


class ProfileError(ValueError):
    """An unknown profile name or chapter."""


def parse_profile(value: str) -> str:
    """The profile named by `value` (case and surrounding spaces ignored), or a ProfileError.

    The one parser of profile names: the environment variable, :func:`chapter_settings` and
    ``python -m utils.freshness`` all go through it, so they accept and refuse the same names.
    An empty or blank name is refused rather than read as the default: a variable set to
    nothing is a mistake, and the default (``full``) is the long run.
    """
    if not isinstance(value, str):
        raise ProfileError(f"a profile name must be a string, not {type(value).__name__}")
    name = value.strip().lower()
    if name not in PROFILES:
        shown = "an empty name" if not name else repr(value)
        raise ProfileError(f"{shown} is not a profile; use one of {', '.join(PROFILES)}")
    return name


def current_profile() -> str:
    """The active profile: ``RNNBOOK_PROFILE`` if it is set, else ``full``.

    A set variable must name a profile (see :func:`parse_profile`): ``RNNBOOK_PROFILE=""`` is
    an error, not the full profile.
    """
    value = os.environ.get(PROFILE_ENV)
    if value is None:
        return DEFAULT_PROFILE
    try:
        return parse_profile(value)
    except ProfileError as error:
        raise ProfileError(f"{PROFILE_ENV}={value!r}: {error}") from None


NO_LIMIT = "all"  # in a settings file: no limit, read as None


def settings_path(chapter: str, folder: Path = CHAPTERS_DIR) -> Path:
    """``chapters/<chapter>.toml``, beside the notebook: the one file that holds a chapter's settings."""
    return folder / f"{chapter}.toml"


def _frozen(value: Any) -> Any:
    if value == NO_LIMIT:
        return None
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


def read_settings_file(chapter: str, folder: Path = CHAPTERS_DIR) -> dict[str, Any]:
    """The parsed, checked settings file of `chapter`: ``budget_seconds``, ``meaning``, one
    table per profile (the same keys in each). A ProfileError names what is wrong."""
    path = settings_path(chapter, folder)
    if not path.is_file():
        raise ProfileError(f"no settings file for chapter {chapter!r}: expected chapters/{path.name}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"chapters/{path.name} is not valid TOML: {error}") from None
    missing = [t for t in ("budget_seconds", *PROFILES) if not isinstance(data.get(t), dict)]
    if missing:
        raise ProfileError(f"chapters/{path.name} lacks the table(s) {', '.join(missing)}")
    extra = set(data) - {"budget_seconds", "meaning", *PROFILES}
    if extra:
        raise ProfileError(f"chapters/{path.name} has unknown table(s) {', '.join(sorted(extra))}")
    keys = {name: list(data[name]) for name in PROFILES}
    if set(keys["smoke"]) != set(keys["full"]):
        raise ProfileError(f"chapters/{path.name}: the profiles must set the same keys; only in one: "
                           f"{', '.join(sorted(set(keys['smoke']) ^ set(keys['full'])))}")
    unknown = set(data.get("meaning", {})) - set(keys["full"])
    if unknown:
        raise ProfileError(f"chapters/{path.name} explains settings it does not set: {', '.join(sorted(unknown))}")
    budgets = data["budget_seconds"]
    if set(budgets) != set(PROFILES) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in budgets.values()):
        raise ProfileError(f"chapters/{path.name}: budget_seconds needs a positive smoke and full value")
    return data


def budget_seconds(chapter: str, profile: str, folder: Path = CHAPTERS_DIR) -> float:
    """The run-time budget of `chapter` in `profile` on a 2-core CPU (a benchmark figure)."""
    return float(read_settings_file(chapter, folder)["budget_seconds"][parse_profile(profile)])


class Settings(Mapping[str, Any]):
    """Read-only settings of one chapter in one profile; keys also work as attributes.

    Assigning a setting raises: a value changed behind the displayed table would make the
    table, ``settings[key]`` and the run disagree. Change a value in the chapter's ``.toml``
    file, or for one run with an override, ``chapter_settings(chapter, epochs=3)``.
    As the last expression of a cell it shows a table of both profiles, the active one in bold.
    """

    def __init__(self, chapter: str, profile: str, values: Mapping[str, Any],
                 other: Mapping[str, Any] | None = None, meaning: Mapping[str, str] | None = None,
                 overridden: frozenset[str] = frozenset()):
        set_ = object.__setattr__
        set_(self, "chapter", chapter)
        set_(self, "profile", profile)
        set_(self, "_values", MappingProxyType({k: _frozen(v) for k, v in values.items()}))
        set_(self, "_other", dict(other or {}))
        set_(self, "_meaning", dict(meaning or {}))
        set_(self, "_overridden", frozenset(overridden))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"the settings of {self.chapter} are read-only: to change {key!r}, edit chapters/{self.chapter}.toml "
            f"or pass it to chapter_settings({self.chapter!r}, {key}=...)")

    def __delattr__(self, key: str) -> None:
        self.__setattr__(key, None)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"{self.chapter} has no setting named {key!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Settings({self.chapter}, {self.profile}: {items})"

    def _repr_markdown_(self) -> str:
        other = next(p for p in PROFILES if p != self.profile)
        shown = {self.profile: f"**{self.profile}** (running)", other: other}
        rows = [f"Settings of this chapter (`chapters/{self.chapter}.toml`), profile **{self.profile}**. "
                f"To change one, edit that file, or pass it here: "
                f"`chapter_settings(\"{self.chapter}\", {next(iter(self._values), 'name')}=...)`; "
                f"the profile comes from `{PROFILE_ENV}` (default {DEFAULT_PROFILE}).", "",
                f"| setting | {shown['smoke']} | {shown['full']} | meaning |", "|---|---|---|---|"]
        for key, value in self._values.items():
            other_value = _frozen(self._other.get(key))
            mark = " (changed here)" if key in self._overridden else ""
            values = {self.profile: f"**{_cell(value)}**{mark}", other: _cell(other_value)}
            rows.append(f"| `{key}` | {values['smoke']} | {values['full']} | {self._meaning.get(key, '')} |")
        return "\n".join(rows)


def _cell(value: Any) -> str:
    if value is None:
        return NO_LIMIT
    if isinstance(value, MappingProxyType):
        value = dict(value)
    return str(value).replace("|", "\\|")


def _check_override(chapter: str, key: str, value: Any, current: Any) -> Any:
    """`value` for setting `key`, if it has the kind of value the file gives (else a ProfileError)."""
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        if isinstance(v, (list, tuple)):
            return "list"
        return type(v).__name__
    if value is None or value == NO_LIMIT:
        return NO_LIMIT
    if current != NO_LIMIT and kind(value) != kind(current):
        raise ProfileError(f"{chapter}: {key} must be a {kind(current)} like {current!r}, not {value!r}")
    return list(value) if isinstance(value, tuple) else value


def chapter_settings(chapter: str, profile: str | None = None, **overrides: Any) -> Settings:
    """The settings of `chapter` in `profile` (default: the active one), from ``chapters/<chapter>.toml``.

    ``overrides`` change settings of this file for this run only (``epochs=3``; ``None`` means no
    limit); an unknown name or a value of another kind is a ProfileError.
    """
    profile = current_profile() if profile is None else parse_profile(profile)
    data = read_settings_file(chapter)
    other = next(p for p in PROFILES if p != profile)
    values = dict(data[profile])
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        raise ProfileError(f"{chapter} has no setting named {', '.join(map(repr, unknown))}; "
                           f"its settings: {', '.join(values)}")
    for key, value in overrides.items():
        values[key] = _check_override(chapter, key, value, values[key])
    return Settings(chapter, profile, values, data[other], data.get("meaning"), frozenset(overrides))
