"""Sentence-level evidence for a fact: sentences that mention it, and sentences that state it.

Document co-occurrence counts a fact whenever its subject and object appear somewhere
in one document. This package looks closer, over a corpus given as JSON lines of
``{"text": ...}``:

1. sentences are split with NLTK's Punkt, *trained on the corpus itself*
   (:func:`train_punkt`; unsupervised, so no downloaded model is needed), and
   tokenized with NLTK's word tokenizer (:func:`tokens`);
2. for every fact :math:`(s, r, o)`:

   * ``cooccur_docs`` — documents with a sentence mentioning :math:`s` and a sentence mentioning :math:`o`;
   * ``cooccur_sentences`` — sentences mentioning both :math:`s` and :math:`o`;
   * ``stated_sentences`` — sentences containing one of the relation's ParaRel
     patterns with :math:`s` and :math:`o` filled in ("Ulm" and "Albert Einstein" in
     "[X] was born in [Y]" → "Albert Einstein was born in Ulm").

Matching is on whole tokens, case-insensitive: a name or filled pattern matches a
sentence when its lower-cased token sequence occurs contiguously in the sentence's
(:func:`token_key`). Mentions are found for all names at once with an Aho-Corasick
automaton (``pyahocorasick``).

One idea per module; every public name is re-exported here, so ``from smi import sentences;
sentences.count_in_texts(...)`` works as before.

===================================  =========================================================================
:mod:`~smi.sentences.corpus`         the corpus read, and split into sentences by Punkt trained on it
:mod:`~smi.sentences.keys`           whole-token matching: word tokens and the token key
:mod:`~smi.sentences.patterns`       the ParaRel patterns that state each fact; a pattern filled with a fact
:mod:`~smi.sentences.counts`         per-fact counts of mentions, co-occurrences and statements; the whole step
:mod:`~smi.sentences.excerpts`       an excerpt of a stating sentence around the fact's names
:mod:`~smi.sentences.correlations`   Spearman's ρ between two counts over the facts
===================================  =========================================================================
"""

from __future__ import annotations

from smi.sentences.corpus import read_corpus, split_sentences, train_punkt
from smi.sentences.correlations import rank_correlations
from smi.sentences.counts import MentionIndex, count_in_texts, count_statements, index_mentions, sentence_counts
from smi.sentences.excerpts import excerpt
from smi.sentences.keys import TRAILING_PUNCTUATION, token_key, tokens
from smi.sentences.patterns import check_classes, fact_patterns, fill_pattern

__all__ = [
    "TRAILING_PUNCTUATION",
    "MentionIndex",
    "check_classes",
    "count_in_texts",
    "count_statements",
    "excerpt",
    "fact_patterns",
    "fill_pattern",
    "index_mentions",
    "rank_correlations",
    "read_corpus",
    "sentence_counts",
    "split_sentences",
    "token_key",
    "tokens",
    "train_punkt",
]
