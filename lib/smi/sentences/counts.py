"""Sentence-level counts per fact: mentions found in one Aho-Corasick pass, co-occurring and stating sentences.

:func:`count_statements` counts in sentences already split; :func:`count_in_texts` and
:func:`sentence_counts` are the whole step, from texts or from a JSONL corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ahocorasick
import pandas as pd
from nltk.tokenize.punkt import PunktSentenceTokenizer

from smi.sentences.corpus import read_corpus, split_sentences, train_punkt
from smi.sentences.keys import token_key
from smi.sentences.patterns import fact_patterns, fill_pattern

__all__ = ["MentionIndex", "count_in_texts", "count_statements", "index_mentions", "sentence_counts"]


@dataclass
class MentionIndex:
    """Where each name is mentioned: sentence ids and document ids per token key."""

    sentences: dict[str, set[int]]
    documents: dict[str, set[int]]


def index_mentions(
    sentence_keys: list[str], sentence_docs: list[int], names: set[str], progress: bool = False
) -> MentionIndex:
    """Find every name (by :func:`smi.sentences.token_key`) in every sentence key with one Aho-Corasick pass.

    Parameters
    ----------
    sentence_keys : list of str
        The :func:`smi.sentences.token_key` of each sentence.
    sentence_docs : list of int
        The document of each sentence.
    names : set of str
        The keys of the subjects and objects to find.
    progress : bool
        Show a progress bar.

    Returns
    -------
    MentionIndex
        For each name, the sentences and documents that mention it.
    """
    from tqdm import tqdm

    automaton = ahocorasick.Automaton()
    for key in {token_key(name) for name in names} - {""}:
        automaton.add_word(key, key)
    by_sentence: dict[str, set[int]] = {}
    by_document: dict[str, set[int]] = {}
    if len(automaton) == 0:
        return MentionIndex(by_sentence, by_document)
    automaton.make_automaton()
    for sentence_id, (key, doc) in enumerate(
        tqdm(list(zip(sentence_keys, sentence_docs)), desc="mentions", unit="sentence", disable=not progress)
    ):
        for _, name_key in automaton.iter(key):
            by_sentence.setdefault(name_key, set()).add(sentence_id)
            by_document.setdefault(name_key, set()).add(doc)
    return MentionIndex(by_sentence, by_document)


def count_statements(
    facts: pd.DataFrame, sentences: pd.DataFrame, patterns: pd.Series, progress: bool = False
) -> pd.DataFrame:
    """Per fact: idx, subj, rel, obj, cooccur_docs, cooccur_sentences, stated_sentences, example.

    ``sentences`` is :func:`smi.sentences.split_sentences` output; ``patterns`` the ParaRel patterns
    per fact (:func:`smi.sentences.fact_patterns`). ``example`` is the first sentence that states
    the fact (empty when none does).

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with idx, subj, rel, obj.
    sentences : pandas.DataFrame
        :func:`smi.sentences.split_sentences`' output.
    patterns : pandas.Series
        :func:`smi.sentences.fact_patterns`' output.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per fact with the columns above.
    """
    from tqdm import tqdm

    sentence_keys = [
        token_key(text) for text in tqdm(sentences["sentence"], desc="tokenize", unit="sentence", disable=not progress)
    ]
    names = set(facts["subj"]) | set(facts["obj"])
    mentions = index_mentions(sentence_keys, sentences["doc"].tolist(), names, progress)
    empty: set[int] = set()
    rows = []
    for fact, fact_patterns_ in tqdm(
        zip(facts.itertuples(index=False), patterns), total=len(facts), desc="facts", unit="fact", disable=not progress
    ):
        subj_key, obj_key = token_key(fact.subj), token_key(fact.obj)
        both = mentions.sentences.get(subj_key, empty) & mentions.sentences.get(obj_key, empty)
        docs = mentions.documents.get(subj_key, empty) & mentions.documents.get(obj_key, empty)
        stating = []
        if both:
            statements = {
                token_key(fill_pattern(p, fact.subj, fact.obj), strip_trailing=True) for p in fact_patterns_
            } - {""}
            stating = sorted(s for s in both if any(statement in sentence_keys[s] for statement in statements))
        rows.append(
            {
                "idx": fact.idx,
                "subj": fact.subj,
                "rel": fact.rel,
                "obj": fact.obj,
                "cooccur_docs": len(docs),
                "cooccur_sentences": len(both),
                "stated_sentences": len(stating),
                "example": sentences["sentence"].iat[stating[0]] if stating else "",
            }
        )
    return pd.DataFrame(rows)


def count_in_texts(
    facts: pd.DataFrame,
    texts: list[str],
    pararel_root: Path,
    splitter: PunktSentenceTokenizer | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Split ``texts`` with Punkt (trained on them unless ``splitter`` is given) and count per fact.

    Returns the counts (:func:`count_statements`; one row per fact, same idx) and a
    summary: documents, sentences, facts, and how many facts are mentioned together
    / stated at least once.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with idx, subj, rel, obj.
    texts : list of str
        The documents.
    pararel_root : Path
        The ParaRel folder.
    splitter : PunktSentenceTokenizer or None
        A trained splitter; one is trained on ``texts`` when None.
    progress : bool
        Show progress bars.

    Returns
    -------
    counts : pandas.DataFrame
        One row per fact (:func:`count_statements`).
    summary : dict
        documents, sentences, facts, facts_cooccurring, facts_stated.

    Raises
    ------
    SmiError
        When a fact's class is unknown or a ParaRel file is invalid.
    """
    splitter = splitter or train_punkt(texts)
    sentences = split_sentences(texts, splitter, progress)
    counts = count_statements(facts, sentences, fact_patterns(facts, pararel_root), progress)
    summary = {
        "documents": len(texts),
        "sentences": len(sentences),
        "facts": len(counts),
        "facts_cooccurring": int((counts["cooccur_sentences"] > 0).sum()),
        "facts_stated": int((counts["stated_sentences"] > 0).sum()),
    }
    return counts, summary


def sentence_counts(
    facts: pd.DataFrame, corpus_path: Path, pararel_root: Path, skip_bad_lines: bool = False, progress: bool = False
) -> tuple[pd.DataFrame, dict]:
    """The whole step over a JSONL corpus: :func:`smi.sentences.read_corpus`, then :func:`count_in_texts`.

    The summary also holds ``skipped_lines`` (corpus lines skipped as bad).

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with idx, subj, rel, obj.
    corpus_path : Path
        The JSONL corpus.
    pararel_root : Path
        The ParaRel folder.
    skip_bad_lines : bool
        Skip and count bad corpus lines instead of raising.
    progress : bool
        Show progress bars.

    Returns
    -------
    counts : pandas.DataFrame
        One row per fact.
    summary : dict
        As for :func:`count_in_texts`, plus skipped_lines.

    Raises
    ------
    SmiError
        When the corpus or a ParaRel file is invalid.
    """
    texts, skipped = read_corpus(corpus_path, skip_bad_lines)
    counts, summary = count_in_texts(facts, texts, pararel_root, progress=progress)
    return counts, {**summary, "skipped_lines": skipped}
