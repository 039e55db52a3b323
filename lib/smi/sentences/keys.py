"""Matching on whole tokens: NLTK word tokens, lower-cased, joined into a key framed by spaces.

A name or a filled pattern matches a sentence when its key occurs in the sentence's key.
"""

from __future__ import annotations

from functools import lru_cache

from nltk.tokenize import NLTKWordTokenizer

__all__ = ["TRAILING_PUNCTUATION", "token_key", "tokens"]

TRAILING_PUNCTUATION = {".", "!", "?", ";", ","}


@lru_cache(maxsize=1)
def _word_tokenizer() -> NLTKWordTokenizer:
    return NLTKWordTokenizer()


def tokens(text: str) -> list[str]:
    """NLTK word tokens of ``text``, lower-cased.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of str
        The tokens.
    """
    return [token.lower() for token in _word_tokenizer().tokenize(text)]


def token_key(text: str, strip_trailing: bool = False) -> str:
    """Lower-cased tokens joined and framed by single spaces (``" albert einstein "``).

    Framing makes substring search on keys match whole tokens only; with
    ``strip_trailing`` final punctuation tokens (a pattern's full stop) are dropped.

    Parameters
    ----------
    text : str
        Any text.
    strip_trailing : bool
        Drop final punctuation tokens.

    Returns
    -------
    str
        The key.
    """
    words = tokens(text)
    while strip_trailing and words and words[-1] in TRAILING_PUNCTUATION:
        words.pop()
    return " " + " ".join(words) + " " if words else ""
