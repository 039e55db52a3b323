r"""Filler sentences: short plain sentences of the vital-article summaries that pad the lab's documents.

Both corpus designs (:mod:`smi.lab.power`, :mod:`smi.lab.design`) draw filler from
:func:`vital_filler`, so a document about a made-up person reads like text and the
model cannot learn that every sentence states a fact.
"""

from __future__ import annotations

import re

_FILLER_SENTENCE = re.compile(r"[A-Z][A-Za-z ,'-]*[a-z]\.")
_WORDS = re.compile(r"\w+|[^\w\s]+")


def filler_pool(texts: list[str], vocabulary_size: int) -> list[str]:
    """Short plain sentences of ``texts`` whose every word is among its ``vocabulary_size`` most frequent.

    Sentences are cut after ``.``, ``!`` or ``?`` followed by a capital; a kept
    sentence has 6–18 words of letters, commas, apostrophes and hyphens, starts
    with a capital and ends with a full stop. Keeping to frequent words keeps the
    trained tokenizer's vocabulary small.

    Parameters
    ----------
    texts : list of str
        Source texts.
    vocabulary_size : int
        How many of the most frequent words a sentence may use.

    Returns
    -------
    list of str
        The distinct sentences kept, in order of appearance.
    """
    sentences = [s for text in texts for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)]
    counts: dict[str, int] = {}
    for sentence in sentences:
        for word in _WORDS.findall(sentence):
            counts[word] = counts.get(word, 0) + 1
    frequent = {word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:vocabulary_size]}
    pool = [
        s
        for s in sentences
        if 6 <= len(s.split()) <= 18
        and _FILLER_SENTENCE.fullmatch(s)
        and "  " not in s
        and all(word in frequent for word in _WORDS.findall(s))
    ]
    return sorted(set(pool))


def vital_filler(vocabulary_size: int) -> list[str]:
    """:func:`filler_pool` over the vital-article summaries (read from the installed package).

    Parameters
    ----------
    vocabulary_size : int
        As for :func:`filler_pool`.

    Returns
    -------
    list of str
        The sentences.

    Raises
    ------
    SmiError
        When the package of summaries is not installed.
    """
    from smi import corpus as packaged

    return filler_pool([record["text"] for record in packaged.vital_articles()], vocabulary_size)
