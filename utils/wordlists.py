"""Words the book displays: never one of a documented list of slurs and obscenities.

The chapters train on their data as it is; only the word lists a page shows a reader (nearest
neighbours, maps of words) skip the words of better-profanity's word list (MIT licence, pinned in
requirements.txt), read through its public API.
"""

from __future__ import annotations

from functools import cache


@cache
def _checker():
    from better_profanity import profanity

    profanity.load_censor_words()  # its own documented list, not a custom one
    return profanity


def displayable(word: str) -> bool:
    """False for a word of the list (any case), True otherwise."""
    if not isinstance(word, str):
        raise TypeError(f"a word must be a string, not {type(word).__name__}")
    return not _checker().contains_profanity(word)
