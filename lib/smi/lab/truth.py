r"""The truth of a lab corpus by construction: which documents hold which names under the paper's rule.

The paper's rule (``smi count --match paper``) says that a document contains a
name when ``" " + name`` occurs in it. Documents are sentences joined by single
spaces; names hold only letters and spaces and every sentence ends with ``.``,
so an occurrence never spans two sentences. Each sentence is scanned once when it
is placed (:func:`names_in_sentence`: at each position after a space, the names
that start there; the first sentence of a document has no space before its first
character), and a document contains the union of its sentences' names
(:func:`truth_table`). This is an independent implementation of the rule;
``tests/test_lab.py`` checks that ``smi count`` agrees on every fact.

The truth table also records ``answer_share``, the share of the relation's stating
documents whose object is the fact's object, :math:`p_r(o)`: the answer distribution
a model can learn for the relation without knowing the subject.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from smi.errors import SmiError
from smi.lab.corpus import TRUTH_COLUMNS


class NameIndex:
    """Names grouped by their first two characters, for :func:`names_in_sentence`."""

    def __init__(self, names: list[str]) -> None:
        for name in names:
            if not re.fullmatch(r"[A-Za-z]+( [A-Za-z]+)*", name):
                raise SmiError(f"lab name {name!r} must be letters separated by single spaces")
        self.by_prefix: dict[str, list[str]] = {}
        for name in sorted(set(names)):
            self.by_prefix.setdefault(name[:2], []).append(name)


def names_in_sentence(sentence: str, index: NameIndex, first: bool) -> frozenset[str]:
    """Names ``n`` for which ``" " + n`` occurs in a document where this sentence follows a space.

    ``first``: the sentence opens its document, so no space precedes its first
    character. No right boundary is required (the paper's rule): ``"Niger"`` is
    found in ``"Nigeria"``.

    Parameters
    ----------
    sentence : str
        A sentence of a document.
    index : NameIndex
        The names to find.
    first : bool
        Whether the sentence opens its document.

    Returns
    -------
    frozenset of str
        The names found.
    """
    starts = [i + 1 for i, ch in enumerate(sentence) if ch == " "]
    if not first:
        starts.insert(0, 0)
    found = set()
    for start in starts:
        for name in index.by_prefix.get(sentence[start : start + 2], ()):
            if sentence.startswith(name, start):
                found.add(name)
    return frozenset(found)


def truth_table(
    documents: list[list[str]], facts: pd.DataFrame, stated: np.ndarray, mentions: np.ndarray, paraphrases: np.ndarray
) -> pd.DataFrame:
    """The truth table (:data:`smi.lab.corpus.TRUTH_COLUMNS`): per fact the documents holding its subject, its
    object and both under the paper's rule (module docstring), the knobs given and the answer share.

    Parameters
    ----------
    documents : list of list of str
        Every document as its sentences, in corpus order.
    facts : pandas.DataFrame
        The facts (idx, subj, rel, obj).
    stated, mentions, paraphrases : numpy.ndarray
        Per fact: the documents stating it, the co-mention documents and the prompts stating it.

    Returns
    -------
    pandas.DataFrame
        One row per fact.
    """
    names = sorted(set(facts["subj"]) | set(facts["obj"]))
    index = NameIndex(names)
    cache: dict[tuple[str, bool], frozenset[str]] = {}
    docs_of: dict[str, set[int]] = {name: set() for name in names}
    for number, sentences in enumerate(documents):
        for position, sentence in enumerate(sentences):
            key = (sentence, position == 0)
            if key not in cache:
                cache[key] = names_in_sentence(sentence, index, position == 0)
            for name in cache[key]:
                docs_of[name].add(number)
    truth = pd.DataFrame(
        {
            "idx": facts["idx"],
            "subj_docs": [len(docs_of[s]) for s in facts["subj"]],
            "obj_docs": [len(docs_of[o]) for o in facts["obj"]],
            "both_docs": [len(docs_of[s] & docs_of[o]) for s, o in zip(facts["subj"], facts["obj"])],
            "stated_docs": stated,
            "mention_docs": mentions,
            "paraphrases": paraphrases,
        }
    )
    statements = facts.assign(stated=stated)
    per_object = statements.groupby(["rel", "obj"])["stated"].transform("sum")
    per_relation = statements.groupby("rel")["stated"].transform("sum").replace(0, 1)
    truth["answer_share"] = (per_object / per_relation).to_numpy()
    return truth[TRUTH_COLUMNS]
