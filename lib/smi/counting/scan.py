"""The scan: one matcher over the distinct names finds them in blocks of documents, and the counts follow.

See :mod:`smi.counting` for the statistics and the matching rules.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smi import matchers
from smi.errors import SmiError
from smi.formats import Facts, as_facts
from smi.matchers import (
    MATCH_MODES,
)
from smi.records import COUNT_FIELDS, FACT_FIELDS

if TYPE_CHECKING:  # pandas is imported only where a function needs it, to keep `smi count` quick to start
    import pandas as pd


#: Characters of text scanned in one pass (about 16 MB of automaton input).
DEFAULT_BLOCK_CHARS = 4 * 2**20
#: Documents added to a block at a time (a block may exceed ``block_chars`` by this many documents).
_BATCH_DOCUMENTS = 64


# ---------------------------------------------------------------------------
# the facts


@dataclass(frozen=True)
class FactStrings:
    """The distinct names searched for, and where each fact's subject and object are among them."""

    strings: tuple[str, ...]
    subj_ids: np.ndarray
    obj_ids: np.ndarray

    def names_sha256(self) -> str:
        """SHA-256 of the names alone (in order); computed once."""
        cached = self.__dict__.get("_names_sha256")
        if cached is None:
            text = json.dumps(self.strings, ensure_ascii=False)
            cached = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            object.__setattr__(self, "_names_sha256", cached)  # frozen: set once, bypassing the dataclass guard
        return cached

    def fingerprint(self) -> str:
        """SHA-256 of the names and the fact-to-name mapping (keys reusable shard results); computed once."""
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            digest = hashlib.sha256(self.names_sha256().encode("ascii"))
            digest.update(self.subj_ids.astype(np.int64).tobytes())
            digest.update(self.obj_ids.astype(np.int64).tobytes())
            cached = digest.hexdigest()
            object.__setattr__(self, "_fingerprint", cached)
        return cached


def fact_strings(triples: Facts | pd.DataFrame) -> FactStrings:
    """Distinct subject/object strings of ``triples`` (in order of first use), each fact's subject and object index."""
    facts = as_facts(triples)
    positions: dict[str, int] = {}
    codes = np.fromiter(
        (positions.setdefault(name, len(positions)) for name in itertools.chain(facts.subj, facts.obj)),
        dtype=np.int64,
        count=2 * len(facts),
    )
    return FactStrings(tuple(positions), codes[: len(facts)], codes[len(facts) :])


# ---------------------------------------------------------------------------
# scanning one block of documents


@dataclass
class NameScan:
    """What counting a block needs besides the texts, computed once per run and process.

    The matcher (:mod:`smi.matchers`) and the facts grouped by subject (CSR layout:
    ``fact_order`` sorts the facts by subject, the facts of name ``i`` are
    ``fact_order[fact_starts[i]:fact_starts[i + 1]]``).
    """

    strings: FactStrings
    match: str
    matcher: object
    fact_order: np.ndarray
    fact_starts: np.ndarray

    @property
    def engine(self) -> str:
        return self.matcher.name


_SCANS: dict[tuple[str, str, str], NameScan] = {}


def prepared_scan(
    strings: FactStrings, match: str = "paper", engine: str = "auto", cache_dir: Path | None = None
) -> NameScan:
    """The :class:`NameScan` of ``strings``, built once per process for each set of names, rule and engine.

    ``engine="auto"`` is resolved by :func:`smi.matchers.resolve_engine` (silently:
    :func:`count_corpus` tells the user). A Hyperscan database is cached in
    ``cache_dir`` when one is given.
    """
    matchers.check_match(match)
    engine, _ = matchers.resolve_engine(engine, len(strings.strings))
    key = (strings.fingerprint(), match, engine)
    scan = _SCANS.get(key)
    if scan is None:
        _SCANS.clear()
        matcher = matchers.build_matcher(strings.strings, match, engine, cache_dir, note)
        order, starts = _facts_by_subject(strings)
        scan = _SCANS[key] = NameScan(strings, match, matcher, order, starts)
    return scan


@dataclass
class Counts:
    """Partial or total counts: documents, their UTF-8 bytes, documents per name and per fact's pair."""

    n_docs: int
    n_bytes: int
    name_docs: np.ndarray  # per distinct name: documents containing it
    joint_docs: np.ndarray  # per fact: documents containing its subject and its object

    @classmethod
    def zeros(cls, strings: FactStrings) -> Counts:
        return cls(0, 0, np.zeros(len(strings.strings), np.int64), np.zeros(len(strings.subj_ids), np.int64))

    def add(self, other: Counts) -> Counts:
        """Add ``other`` into these counts (counts over disjoint documents simply add up)."""
        self.n_docs += other.n_docs
        self.n_bytes += other.n_bytes
        self.name_docs += other.name_docs
        self.joint_docs += other.joint_docs
        return self


def _facts_by_subject(strings: FactStrings) -> tuple[np.ndarray, np.ndarray]:
    """Facts sorted by subject name, and where each name's run of facts starts (CSR layout)."""
    order = np.argsort(strings.subj_ids, kind="stable")
    starts = np.searchsorted(strings.subj_ids[order], np.arange(len(strings.strings) + 1))
    return order, starts


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (as np.unique, which imports numpy.ma on first use: ~15 ms per process)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def count_block(texts: list[str], scan: NameScan) -> Counts:
    """Counts over one block of documents (all held in memory at once).

    The distinct (document, name) pairs found give :math:`n_s` by counting pairs per
    name. For :math:`n_{so}`, each pair (d, s) is expanded to the facts whose
    subject is s, and counts when the pair (d, o) of the fact's object was found too;
    so only facts whose subject occurs in the block are touched.
    """
    strings = scan.strings
    n_names = len(strings.strings)
    docs, name_ids, n_bytes = scan.matcher.find(texts)
    found = _sorted_unique(docs * n_names + name_ids)  # each (document, name) once
    found_docs, found_names = np.divmod(found, n_names)
    name_docs = np.bincount(found_names, minlength=n_names)

    fact_order, fact_starts = scan.fact_order, scan.fact_starts
    runs = fact_starts[found_names + 1] - fact_starts[found_names]  # facts with this subject
    pair_docs = np.repeat(found_docs, runs)
    offsets = np.arange(runs.sum()) - np.repeat(np.cumsum(runs) - runs, runs)
    pair_facts = fact_order[np.repeat(fact_starts[found_names], runs) + offsets]
    object_keys = pair_docs * n_names + strings.obj_ids[pair_facts]
    position = np.minimum(np.searchsorted(found, object_keys), max(len(found) - 1, 0))
    with_object = found[position] == object_keys if len(found) else np.zeros(0, dtype=bool)
    joint_docs = np.bincount(pair_facts[with_object], minlength=len(strings.subj_ids))
    return Counts(len(texts), n_bytes, name_docs.astype(np.int64), joint_docs.astype(np.int64))


def count_texts(
    texts: Iterable[str],
    strings: FactStrings,
    match: str = "paper",
    block_chars: int = DEFAULT_BLOCK_CHARS,
    engine: str = "auto",
) -> Counts:
    """Counts over any number of documents, scanned in blocks of about ``block_chars`` characters.

    ``engine`` is one of :data:`smi.matchers.ENGINES`; the counts do not depend on it.
    """
    scan = prepared_scan(strings, match, engine)
    total = Counts.zeros(strings)
    texts = iter(texts)
    batch_size = 1 if block_chars < _BATCH_DOCUMENTS else _BATCH_DOCUMENTS  # tiny blocks (tests): document by document
    block: list[str] = []
    block_size = 0
    while batch := list(itertools.islice(texts, batch_size)):  # documents taken in batches: fewer Python steps
        block += batch
        block_size += sum(map(len, batch)) + len(batch)
        if block_size >= block_chars:
            total.add(count_block(block, scan))
            block, block_size = [], 0
    if block:
        total.add(count_block(block, scan))
    return total


def count_columns(strings: FactStrings, counts: Counts) -> dict[str, np.ndarray]:
    """Per-fact count columns, in the release's order: time_seqs, time_subj, …, time_s0j0."""
    subj_docs = counts.name_docs[strings.subj_ids]
    obj_docs = counts.name_docs[strings.obj_ids]
    joint = counts.joint_docs
    columns = {
        "time_seqs": np.full(len(joint), counts.n_docs, dtype=np.int64),
        "time_subj": subj_docs,
        "time_obj": obj_docs,
        "time_s1j1": joint,
        "time_s1j0": subj_docs - joint,
        "time_s0j1": obj_docs - joint,
        "time_s0j0": counts.n_docs - subj_docs - obj_docs + joint,
    }
    return {name: columns[name] for name in COUNT_FIELDS}


def counts_table(triples: Facts | pd.DataFrame, strings: FactStrings, counts: Counts) -> pd.DataFrame:
    """Per-fact table with the release's columns: idx, subj, rel, obj, time_seqs, …, time_s0j0."""
    frame = triples.frame() if isinstance(triples, Facts) else triples
    table = frame[list(FACT_FIELDS)].reset_index(drop=True).copy()
    for name, values in count_columns(strings, counts).items():
        table[name] = values
    return table


def naive_counts(texts: Iterable[str], triples: pd.DataFrame, match: str = "paper") -> pd.DataFrame:
    """Reference counts, fact by fact, as the paper computed them (slow; for tests and benchmarks).

    For every document and every fact: ``(" " + subj) in text`` and
    ``(" " + obj) in text``. With ``match="word"`` each test is instead a regular
    expression search for the name between non-word characters.
    """
    subjects, objects = triples["subj"].tolist(), triples["obj"].tolist()
    if match == "word":
        compiled = {name: re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)") for name in set(subjects) | set(objects)}

        def occurs(name: str, text: str) -> bool:
            return compiled[name].search(text) is not None
    elif match == "paper":

        def occurs(name: str, text: str) -> bool:
            return (" " + name) in text
    else:
        raise SmiError(f"unknown match mode '{match}'; valid modes: {', '.join(MATCH_MODES)}")
    n_facts = len(subjects)
    subj_docs, obj_docs, joint_docs = [0] * n_facts, [0] * n_facts, [0] * n_facts
    n_docs = 0
    for text in texts:
        n_docs += 1
        for fact in range(n_facts):
            has_subj = occurs(subjects[fact], text)
            has_obj = occurs(objects[fact], text)
            subj_docs[fact] += has_subj
            obj_docs[fact] += has_obj
            joint_docs[fact] += has_subj and has_obj
    strings = FactStrings(tuple(subjects) + tuple(objects), np.arange(n_facts), np.arange(n_facts, 2 * n_facts))
    counts = Counts(n_docs, 0, np.array(subj_docs + obj_docs, dtype=np.int64), np.array(joint_docs, dtype=np.int64))
    return counts_table(triples, strings, counts)


def note(message: str) -> None:
    """Tell the user something on stderr that is not an error (``smi: note: ...``)."""
    print(f"smi: note: {message}", file=sys.stderr)
