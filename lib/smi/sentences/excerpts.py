"""An excerpt of a sentence that states a fact: at most a given width, around the fact's subject and object."""

from __future__ import annotations

from smi.errors import ParameterValueError

__all__ = ["excerpt"]


def excerpt(sentence: str, subj: str, obj: str, width: int = 140) -> str:
    """At most ``width`` characters of ``sentence`` around where it names the subject and the object.

    Parameters
    ----------
    sentence : str
        A sentence that states a fact.
    subj, obj : str
        The fact's subject and object.
    width : int
        The longest excerpt, in characters (at least 20).

    Returns
    -------
    str
        The sentence when it fits; else the shortest stretch from the first of the two mentions
        (case-insensitive) to the end of the other, widened evenly to ``width``, with "…" where
        text was cut. When a name is not found, the stretch starts at the sentence's start.
    """
    if width < 20:
        raise ParameterValueError("width", f"must be at least 20 characters (got {width})")
    if len(sentence) <= width:
        return sentence
    lower = sentence.lower()
    spans = [(at, at + len(name)) for name in (subj, obj) if (at := lower.find(name.lower())) >= 0]
    start = min((first for first, _ in spans), default=0)
    end = max((last for _, last in spans), default=0)
    room = width - 2 - (end - start)
    if room < 0:  # the two names lie further apart than the width: keep the start of the stretch
        end = start + width - 2
    else:
        start = max(0, start - room // 2)
        end = min(len(sentence), start + width - 2)
        start = max(0, end - (width - 2))
    return ("…" if start > 0 else "") + sentence[start:end] + ("…" if end < len(sentence) else "")
