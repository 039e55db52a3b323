"""Sentence-level evidence for a fact: sentences that mention it, and sentences that state it.

Document co-occurrence counts a fact whenever its subject and object appear somewhere
in one document. This module looks closer, over a corpus given as JSON lines of
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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick
import pandas as pd
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

from smi import triples
from smi.corpus_io import SkipLog, read_file_documents
from smi.errors import ParameterValueError, SmiError, check_one_of
from smi.formats import first_unencodable

TRAILING_PUNCTUATION = {".", "!", "?", ";", ","}


# --------------------------------------------------------------------------- corpus and splitting


def _text_problem(text: str) -> str | None:
    """Why a corpus text cannot be read here (empty, or holding a lone surrogate), or None."""
    if not text.strip():
        return "field 'text' is empty"
    if first_unencodable([text]) is not None:
        return "field 'text' is not valid Unicode (a lone surrogate)"
    return None


def read_corpus(path: Path, skip_bad_lines: bool = False) -> tuple[list[str], int]:
    """Texts of a JSONL corpus (one ``{"text": ...}`` per line) and the number of lines skipped.

    The corpus is read by :func:`smi.corpus_io.read_file_documents`, the reader of
    ``smi count``, with its rules: a byte-order mark opening the file is accepted,
    blank lines are not documents, and a bad line (not UTF-8, not a JSON object,
    without a string ``text``) raises :class:`SmiError` naming the file and line,
    unless ``skip_bad_lines``. Here a line is also bad when its text is empty (it
    has no sentence) or holds a lone surrogate (sentences are written back as UTF-8).

    Parameters
    ----------
    path : Path
        The JSONL corpus.
    skip_bad_lines : bool
        Skip and count bad lines instead of raising.

    Returns
    -------
    texts : list of str
        The documents' texts, in file order.
    skipped : int
        How many lines were skipped.

    Raises
    ------
    SmiError
        When the file is missing, a line is bad (without ``skip_bad_lines``), or no document is left.
    """
    skipped = SkipLog() if skip_bad_lines else None
    texts = list(read_file_documents(path, "text", skipped, _text_problem))
    if not texts:
        raise SmiError(f"{path}: corpus has no documents")
    return texts, skipped.count if skipped is not None else 0


def train_punkt(texts: list[str]) -> PunktSentenceTokenizer:
    """A Punkt sentence splitter whose abbreviations, collocations and sentence starters are learnt from ``texts``.

    Punkt (Kiss & Strunk, 2006) is unsupervised: a word that is short and mostly
    followed by a period (``Dr.``, ``St.``, ``U.S.``) is taken for an abbreviation,
    so its period does not end a sentence.

    Parameters
    ----------
    texts : list of str
        The corpus texts.

    Returns
    -------
    nltk.tokenize.punkt.PunktSentenceTokenizer
        The trained splitter.
    """
    trainer = PunktTrainer()
    trainer.train("\n\n".join(texts), finalize=True)
    return PunktSentenceTokenizer(trainer.get_params())


def split_sentences(texts: list[str], splitter: PunktSentenceTokenizer, progress: bool = False) -> pd.DataFrame:
    """One row per sentence: doc (position of the text), sentence (its text).

    Parameters
    ----------
    texts : list of str
        The documents.
    splitter : PunktSentenceTokenizer
        The sentence splitter (:func:`train_punkt`).
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Columns doc and sentence, in document then sentence order.
    """
    from tqdm import tqdm

    rows = [
        (doc, sentence)
        for doc, text in enumerate(tqdm(texts, desc="split", unit="doc", disable=not progress))
        for sentence in splitter.tokenize(text)
    ]
    return pd.DataFrame(rows, columns=["doc", "sentence"])


# --------------------------------------------------------------------------- tokens and keys


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


def fill_pattern(pattern: str, subj: str, obj: str) -> str:
    """A ParaRel pattern with the subject for ``[X]`` and the object for ``[Y]``.

    Parameters
    ----------
    pattern : str
        A pattern with ``[X]`` and ``[Y]``.
    subj, obj : str
        The fact's subject and object.

    Returns
    -------
    str
        The filled sentence.
    """
    return pattern.replace("[X]", subj).replace("[Y]", obj)


# --------------------------------------------------------------------------- facts and their patterns


def fact_patterns(
    facts: pd.DataFrame, pararel_root: Path, mapping: dict[str, tuple[str, ...]] = triples.RELATION_CLASSES
) -> pd.Series:
    """The ParaRel patterns (in the fact's own direction) that state each fact, indexed like ``facts``.

    A fact's relation is its ``pid`` column when present, otherwise found by
    looking the fact up in ParaRel, in either direction for ``capital``'s P36; a
    fact found in neither gets every pattern of its class.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with subj, rel, obj (and optionally pid).
    pararel_root : Path
        The ParaRel folder.
    mapping : dict of str to tuple of str
        Relation class → PIDs.

    Returns
    -------
    pandas.Series
        A list of patterns per fact.

    Raises
    ------
    SmiError
        When a fact's class is not in ``mapping`` or a ParaRel file is invalid.
    """
    check_classes(facts, mapping)
    mapping = {rel: pids for rel, pids in mapping.items() if rel in set(facts["rel"])}
    by_pid = {}
    for pids in mapping.values():
        for pid in pids:
            patterns = triples.load_patterns(pararel_root, pid)
            by_pid[(pid, False)] = patterns
            by_pid[(pid, True)] = [triples.swap_slots(p) for p in patterns]
    looked_up = _lookup_relations(facts, pararel_root, mapping)
    result = []
    for rel, pid, swapped in zip(facts["rel"], looked_up["pid"], looked_up["swapped"]):
        if isinstance(pid, str):
            result.append(by_pid[(pid, bool(swapped))])
        else:
            result.append([p for pid in mapping[rel] for p in by_pid[(pid, False)]])
    return pd.Series(result, index=facts.index, name="patterns")


def check_classes(facts: pd.DataFrame, mapping: dict[str, tuple[str, ...]]) -> None:
    """Every fact's ``rel`` must be a class of ``mapping``.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with ``rel``.
    mapping : dict of str to tuple of str
        Relation class → PIDs.

    Raises
    ------
    SmiError
        Naming the first unknown class (in sorted order) and the valid ones.
    """
    for rel in sorted(set(facts["rel"])):
        check_one_of(rel, mapping, "relation class", "relation classes")


def _lookup_relations(facts: pd.DataFrame, pararel_root: Path, mapping) -> pd.DataFrame:
    """pid and direction (swapped: subject and object exchanged w.r.t. ParaRel) of each fact."""
    trex, _ = triples.read_trex_facts(pararel_root, mapping)
    keys = ["subj", "rel", "obj"]
    known = trex[[*keys, "pid"]].drop_duplicates(keys).assign(swapped=False)
    reversed_ = (
        trex[trex["pid"] == triples.REGION_FIRST_CAPITAL]
        .rename(columns={"subj": "obj", "obj": "subj"})[[*keys, "pid"]]
        .drop_duplicates(keys)
        .assign(swapped=True)
    )
    lookup = pd.concat([known, reversed_]).drop_duplicates(keys)
    found = facts[keys].merge(lookup, on=keys, how="left")
    found.index = facts.index
    found["swapped"] = found["swapped"].astype("boolean").fillna(False).astype(bool)
    if "pid" in facts.columns:
        given = facts["pid"].notna()
        found.loc[given & (found["pid"] != facts["pid"]), "swapped"] = False
        found.loc[given, "pid"] = facts.loc[given, "pid"]
    return found


# --------------------------------------------------------------------------- counting


@dataclass
class MentionIndex:
    """Where each name is mentioned: sentence ids and document ids per token key."""

    sentences: dict[str, set[int]]
    documents: dict[str, set[int]]


def index_mentions(
    sentence_keys: list[str], sentence_docs: list[int], names: set[str], progress: bool = False
) -> MentionIndex:
    """Find every name (by :func:`token_key`) in every sentence key with one Aho-Corasick pass.

    Parameters
    ----------
    sentence_keys : list of str
        The :func:`token_key` of each sentence.
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

    ``sentences`` is :func:`split_sentences` output; ``patterns`` the ParaRel patterns
    per fact (:func:`fact_patterns`). ``example`` is the first sentence that states
    the fact (empty when none does).

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with idx, subj, rel, obj.
    sentences : pandas.DataFrame
        :func:`split_sentences`' output.
    patterns : pandas.Series
        :func:`fact_patterns`' output.
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
        raise ParameterValueError("width", f"must be at least 20 characters, got {width}")
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
    """The whole step over a JSONL corpus: :func:`read_corpus`, then :func:`count_in_texts`.

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


def rank_correlations(counts: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Spearman's rank correlation ρ for each pair of count columns, over all facts and over facts with x > 0.

    ρ is Pearson's correlation of the ranks (ties get their mean rank), so it asks
    whether facts are *ordered* alike by both counts, whatever their scales.

    Parameters
    ----------
    counts : pandas.DataFrame
        Per-fact counts.
    pairs : list of tuple of str
        Pairs (x, y) of column names.

    Returns
    -------
    pandas.DataFrame
        Two rows per pair (all facts, facts with x > 0): x, y, facts, n, spearman_rho, p_value.

    Notes
    -----
    ρ = 1 − 6 Σ d_i² / (n (n² − 1)) for ranks without ties, d_i the difference of a fact's two ranks.
    """
    from scipy.stats import spearmanr

    rows = []
    for x, y in pairs:
        for subset, frame in (("all facts", counts), (f"{x} > 0", counts[counts[x] > 0])):
            varies = len(frame) > 2 and frame[x].nunique() > 1 and frame[y].nunique() > 1
            rho, p_value = spearmanr(frame[x], frame[y]) if varies else (float("nan"), float("nan"))
            rows.append({"x": x, "y": y, "facts": subset, "n": len(frame), "spearman_rho": rho, "p_value": p_value})
    return pd.DataFrame(rows)
