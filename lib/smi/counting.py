r"""Document counts of each fact's subject and object over a text corpus.

For a fact :math:`(s, r, o)` and a corpus of :math:`N` documents, the paper's
statistics are document counts:

* :math:`n_s` (``time_subj``): documents that contain the subject,
* :math:`n_o` (``time_obj``): documents that contain the object,
* :math:`n_{so}` (``time_s1j1``): documents that contain both,

and the rest of the 2×2 table, :math:`n_{s\bar o} = n_s - n_{so}` (``time_s1j0``),
:math:`n_{\bar s o} = n_o - n_{so}` (``time_s0j1``) and
:math:`n_{\bar s\bar o} = N - n_s - n_o + n_{so}` (``time_s0j0``), with
:math:`N` = ``time_seqs``.

"Contains" has two meanings (``match``):

* ``"paper"`` (the release's rule): ``" " + name`` occurs in the document as a
  case-sensitive substring. There is no right boundary (``" Paris"`` is found in
  ``"a Parisian"``), and a name at the very start of a document is not found,
  because no space precedes it.
* ``"word"``: ``name`` occurs with no word character (letter, digit or ``_``)
  directly before or after it; the start and end of a document count as
  boundaries.

The engine never tests facts one by one. The distinct subject and object strings
go into one Aho–Corasick automaton (pyahocorasick); a block of many documents is
joined with a separator that no name contains and scanned in one pass; each match
position is mapped back to its document with a binary search over the document
offsets. The (document, string) pairs form a sparse 0/1 *presence matrix*
:math:`X`, and

.. math::

    n_s = \sum_d X_{d s}, \qquad n_{so} = \sum_d X_{d s} X_{d o},

so only the documents in which a name was found cost anything beyond the scan.
Memory is bounded by the block size, whatever the corpus size.

:func:`count_corpus` runs this over shards of a corpus (see :mod:`smi.corpus_io`),
serially or on a Dask cluster, and keeps each finished shard's partial counts in
a work folder so that an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np

from smi import corpus_io
from smi.errors import SmiError
from smi.files import atomic_output
from smi.records import COUNT_FIELDS, FACT_FIELDS

if TYPE_CHECKING:  # pandas is imported only where a function needs it, to keep `smi count` quick to start
    import pandas as pd

MATCH_MODES = ("paper", "word")
#: Characters of text scanned in one pass (about 16 MB of automaton input).
DEFAULT_BLOCK_CHARS = 4 * 2**20
#: Joins the documents of a block; names may not contain it, so no match spans two documents.
SEPARATOR = "\x00"
OUTPUT_SUFFIXES = (".csv", ".parquet", ".json")
#: Characters by how often they occur in English text. The automaton's trie keeps a
#: node's children in insertion order and searches them in that order, so inserting
#: names with frequent characters first makes the scan faster (results are unchanged).
_FREQUENT_CHARACTERS = " etaoinsrhldcumfpgwybvkxjqzTSACMBPHRDLEWNGIFOJKUVYQZX0123456789.,-'()"
_CHARACTER_RANK = {character: rank for rank, character in enumerate(_FREQUENT_CHARACTERS)}


class _RankTable(dict):
    """str.translate table: frequent characters to their rank, any other character after all of them."""

    def __missing__(self, code_point: int) -> int:
        return len(_FREQUENT_CHARACTERS) + code_point


_RANK_TABLE = _RankTable({ord(character): rank for character, rank in _CHARACTER_RANK.items()})


# ---------------------------------------------------------------------------
# the facts


# The facts are read and checked by their one reader, smi.formats; the old names stay importable here.
from smi.formats import Facts, as_facts, check_facts, load_triples, read_fact_table  # noqa: E402,F401
from smi.formats import read_facts as read_triples  # noqa: E402,F401


@dataclass(frozen=True)
class FactStrings:
    """The distinct names searched for, and where each fact's subject and object are among them."""

    strings: tuple[str, ...]
    subj_ids: np.ndarray
    obj_ids: np.ndarray

    def fingerprint(self) -> str:
        """SHA-256 of the names and the fact-to-name mapping (keys reusable shard results)."""
        digest = hashlib.sha256()
        digest.update(json.dumps(self.strings, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        digest.update(self.subj_ids.astype(np.int64).tobytes())
        digest.update(self.obj_ids.astype(np.int64).tobytes())
        return digest.hexdigest()


def fact_strings(triples: "Facts | pd.DataFrame") -> FactStrings:
    """Distinct subject/object strings of ``triples`` (in order of first use) with each fact's subject and object index."""
    facts = as_facts(triples)
    positions: dict[str, int] = {}
    codes = np.fromiter(
        (positions.setdefault(name, len(positions)) for name in itertools.chain(facts.subj, facts.obj)), dtype=np.int64, count=2 * len(facts)
    )
    return FactStrings(tuple(positions), codes[: len(facts)], codes[len(facts) :])


# ---------------------------------------------------------------------------
# scanning one block of documents


def _search_key(pattern: str) -> str:
    """Sort key putting names made of frequent characters first (character by character)."""
    return pattern.translate(_RANK_TABLE)


def search_patterns(strings: Iterable[str], match: str) -> list[str]:
    """What the automaton looks for: ``" " + name`` for the paper's rule, the name itself for ``word``."""
    if match not in MATCH_MODES:
        raise SmiError(f"unknown match mode '{match}'; valid modes: {', '.join(MATCH_MODES)}")
    return [" " + name for name in strings] if match == "paper" else list(strings)


def build_automaton(strings: tuple[str, ...], match: str):
    """An Aho–Corasick automaton whose value for each pattern is the name's position in ``strings``."""
    import ahocorasick

    patterns = search_patterns(strings, match)
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for string_id in sorted(range(len(patterns)), key=lambda i: _search_key(patterns[i])):
        automaton.add_word(patterns[string_id], string_id)
    automaton.make_automaton()
    return automaton


_AUTOMATA: dict[tuple[str, str], object] = {}


def cached_automaton(strings: FactStrings, match: str):
    """:func:`build_automaton`, built once per process for each set of names and match mode."""
    key = (strings.fingerprint(), match)
    if key not in _AUTOMATA:
        _AUTOMATA.clear()
        _AUTOMATA[key] = build_automaton(strings.strings, match)
    return _AUTOMATA[key]


def is_word_character(character: str) -> bool:
    """Letters and digits of any script, and ``_`` (what ``\\w`` matches in Python's ``re``)."""
    return character.isalnum() or character == "_"


def _at_word_boundaries(block: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each match [start, end] has no word character right before or after it."""
    last = len(block) - 1
    return np.fromiter(
        (
            (start == 0 or not is_word_character(block[start - 1])) and (end == last or not is_word_character(block[end + 1]))
            for start, end in zip(starts.tolist(), ends.tolist())
        ),
        dtype=bool,
        count=len(starts),
    )


def find_names(automaton, texts: list[str], match: str, name_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(document, name) index pairs for every occurrence of a name in ``texts`` (repeats included).

    The texts are joined with :data:`SEPARATOR` and scanned once; the end position
    of each match is mapped to its document by binary search over the documents'
    start offsets.
    """
    block = SEPARATOR.join(texts)
    hits = np.fromiter(itertools.chain.from_iterable(automaton.iter(block)), dtype=np.int64)
    ends, name_ids = hits[0::2], hits[1::2]
    if match == "word":
        keep = _at_word_boundaries(block, ends - name_lengths[name_ids] + 1, ends)
        ends, name_ids = ends[keep], name_ids[keep]
    doc_lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    doc_starts = np.concatenate(([0], np.cumsum(doc_lengths + 1)[:-1]))
    docs = np.searchsorted(doc_starts, ends, side="right") - 1
    return docs, name_ids


@dataclass
class Counts:
    """Partial or total counts: documents, their UTF-8 bytes, documents per name and per fact's pair."""

    n_docs: int
    n_bytes: int
    name_docs: np.ndarray  # per distinct name: documents containing it
    joint_docs: np.ndarray  # per fact: documents containing its subject and its object

    @classmethod
    def zeros(cls, strings: FactStrings) -> "Counts":
        return cls(0, 0, np.zeros(len(strings.strings), np.int64), np.zeros(len(strings.subj_ids), np.int64))

    def add(self, other: "Counts") -> "Counts":
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


def count_block(texts: list[str], strings: FactStrings, match: str = "paper", automaton=None) -> Counts:
    """Counts over one block of documents (all held in memory at once).

    The distinct (document, name) pairs found give :math:`n_s` by counting pairs per
    name. For :math:`n_{so}`, each pair (d, s) is expanded to the facts whose
    subject is s, and counts when the pair (d, o) of the fact's object was found too;
    so only facts whose subject occurs in the block are touched.
    """
    automaton = automaton if automaton is not None else cached_automaton(strings, match)
    n_names = len(strings.strings)
    name_lengths = np.fromiter(map(len, strings.strings), dtype=np.int64, count=n_names)
    docs, name_ids = find_names(automaton, texts, match, name_lengths)
    found = _sorted_unique(docs * n_names + name_ids)  # each (document, name) once
    found_docs, found_names = np.divmod(found, n_names)
    name_docs = np.bincount(found_names, minlength=n_names)

    fact_order, fact_starts = _facts_by_subject(strings)
    runs = fact_starts[found_names + 1] - fact_starts[found_names]  # facts with this subject
    pair_docs = np.repeat(found_docs, runs)
    offsets = np.arange(runs.sum()) - np.repeat(np.cumsum(runs) - runs, runs)
    pair_facts = fact_order[np.repeat(fact_starts[found_names], runs) + offsets]
    object_keys = pair_docs * n_names + strings.obj_ids[pair_facts]
    position = np.minimum(np.searchsorted(found, object_keys), max(len(found) - 1, 0))
    with_object = found[position] == object_keys if len(found) else np.zeros(0, dtype=bool)
    joint_docs = np.bincount(pair_facts[with_object], minlength=len(strings.subj_ids))

    n_bytes = sum(len(text.encode("utf-8", "surrogatepass")) for text in texts)
    return Counts(len(texts), n_bytes, name_docs.astype(np.int64), joint_docs.astype(np.int64))


def count_texts(texts: Iterable[str], strings: FactStrings, match: str = "paper", block_chars: int = DEFAULT_BLOCK_CHARS) -> Counts:
    """Counts over any number of documents, scanned in blocks of about ``block_chars`` characters."""
    automaton = cached_automaton(strings, match)
    total = Counts.zeros(strings)
    block: list[str] = []
    block_size = 0
    for text in texts:
        block.append(text)
        block_size += len(text) + 1
        if block_size >= block_chars:
            total.add(count_block(block, strings, match, automaton))
            block, block_size = [], 0
    if block:
        total.add(count_block(block, strings, match, automaton))
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


def counts_table(triples: "Facts | pd.DataFrame", strings: FactStrings, counts: Counts) -> "pd.DataFrame":
    """Per-fact table with the release's columns: idx, subj, rel, obj, time_seqs, …, time_s0j0."""
    frame = triples.frame() if isinstance(triples, Facts) else triples
    table = frame[list(FACT_FIELDS)].reset_index(drop=True).copy()
    for name, values in count_columns(strings, counts).items():
        table[name] = values
    return table


def naive_counts(texts: Iterable[str], triples: "pd.DataFrame", match: str = "paper") -> "pd.DataFrame":
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


# ---------------------------------------------------------------------------
# shards, the work folder, and running on a cluster


@dataclass(frozen=True)
class CountSettings:
    """Everything besides the facts and the corpus that changes the counts."""

    match: str = "paper"
    text_field: str = "text"
    skip_bad_lines: bool = False
    block_chars: int = DEFAULT_BLOCK_CHARS

    def __post_init__(self) -> None:
        if self.match not in MATCH_MODES:
            raise SmiError(f"unknown match mode '{self.match}'; valid modes: {', '.join(MATCH_MODES)}")
        if self.block_chars <= 0:
            raise SmiError(f"block size must be positive, got {self.block_chars} characters")


@dataclass
class ShardResult:
    """A shard's counts and the lines it skipped."""

    counts: Counts
    skipped: corpus_io.SkipLog = field(default_factory=corpus_io.SkipLog)
    seconds: float = 0.0


def count_shard(shard: corpus_io.Shard, strings: FactStrings, settings: CountSettings) -> ShardResult:
    """Count one shard (runs on a Dask worker, or in the calling process)."""
    started = time.perf_counter()
    skipped = corpus_io.SkipLog() if settings.skip_bad_lines else None
    texts = corpus_io.read_documents(shard, settings.text_field, skipped)
    counts = count_texts(texts, strings, settings.match, settings.block_chars)
    return ShardResult(counts, skipped or corpus_io.SkipLog(), time.perf_counter() - started)


def shard_result_path(work_dir: Path, shard: corpus_io.Shard, strings: FactStrings, settings: CountSettings) -> Path:
    """Where a shard's partial counts live: named by a hash of the facts, the settings and the shard."""
    settings_key = json.dumps({k: v for k, v in asdict(settings).items() if k != "block_chars"}, sort_keys=True)
    key = hashlib.sha256(f"{strings.fingerprint()}|{settings_key}|{shard.identity()}".encode("utf-8", "surrogatepass"))
    return Path(work_dir) / f"shard-{key.hexdigest()[:32]}.npz"


def save_shard_result(path: Path, result: ShardResult) -> Path:
    """Write a shard's counts atomically: a temporary file renamed into place, so a kill leaves no partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        n_docs=result.counts.n_docs,
        n_bytes=result.counts.n_bytes,
        name_docs=result.counts.name_docs,
        joint_docs=result.counts.joint_docs,
        skipped_count=result.skipped.count,
        skipped_examples=np.array(json.dumps(result.skipped.examples)),
    )
    with atomic_output(path) as temporary:
        temporary.write_bytes(buffer.getvalue())
    return path


def load_shard_result(path: Path) -> ShardResult:
    """Read back what :func:`save_shard_result` wrote."""
    with np.load(path) as stored:
        counts = Counts(int(stored["n_docs"]), int(stored["n_bytes"]), stored["name_docs"].copy(), stored["joint_docs"].copy())
        skipped = corpus_io.SkipLog(int(stored["skipped_count"]), json.loads(str(stored["skipped_examples"])))
    return ShardResult(counts, skipped)


def _run_serially(shards, strings, settings, on_done) -> None:
    for shard in shards:
        on_done(shard, count_shard(shard, strings, settings))


#: What forked pool processes count with: set in the parent just before the fork.
_FORKED_JOB: tuple["FactStrings", "CountSettings"] | None = None


def _count_shard_in_fork(shard: corpus_io.Shard) -> ShardResult:
    strings, settings = _FORKED_JOB
    return count_shard(shard, strings, settings)


def _run_on_processes(shards, strings, settings, on_done, processes: int) -> None:
    """Count shards on ``processes`` forked local processes (no cluster to start).

    The automaton is built once in this process before the fork, so every child
    inherits it instead of building its own. Where ``fork`` is unavailable the
    shards are counted serially.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    global _FORKED_JOB
    if processes == 1 or len(shards) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        _run_serially(shards, strings, settings, on_done)
        return
    cached_automaton(strings, settings.match)
    _FORKED_JOB = (strings, settings)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(processes, len(shards)), mp_context=context) as pool:
            futures = {pool.submit(_count_shard_in_fork, shard): shard for shard in shards}
            for future in as_completed(futures):
                on_done(futures[future], future.result())
    finally:
        _FORKED_JOB = None


def _run_on_dask(shards, strings, settings, on_done, workers: int | None, scheduler: str | None) -> None:
    """Count shards on a Dask cluster: a new local one with ``workers`` processes, or the one at ``scheduler``."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )
            client = Client(cluster)
    except OSError as error:
        raise SmiError(f"cannot reach the Dask scheduler {scheduler or '(local)'}: {error}") from None
    try:
        shared_strings = client.scatter(strings, broadcast=True)
        futures = {client.submit(count_shard, shard, shared_strings, settings, pure=False): shard for shard in shards}
        for future in as_completed(futures):
            on_done(futures[future], future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@dataclass
class CountRun:
    """The outcome of :func:`count_corpus`: the facts, their count columns and what went into them."""

    facts: Facts
    counts: dict[str, np.ndarray]  # the columns of COUNT_FIELDS, one value per fact
    metadata: dict

    def columns(self) -> dict[str, list]:
        """Every output column (idx, subj, rel, obj, time_seqs, …, time_s0j0) as a list."""
        return {**self.facts.columns(), **{name: values.tolist() for name, values in self.counts.items()}}

    @functools.cached_property
    def table(self) -> "pd.DataFrame":
        """The per-fact table as a DataFrame (built on first access)."""
        import pandas as pd

        return pd.DataFrame({**self.facts.columns(), **self.counts})


class _SilentBar:
    """What :func:`count_corpus` calls on a progress bar, doing nothing (no tqdm import needed)."""

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, progress: bool | None):
    """A tqdm bar over ``total`` shards; ``progress=None`` shows it only on a terminal, ``False`` never."""
    if progress is False:
        return _SilentBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="shard", desc="counting", disable=None if progress is None else not progress)


def count_corpus(
    triples: "Facts | pd.DataFrame",
    corpus: list[str | Path],
    work_dir: Path,
    settings: CountSettings = CountSettings(),
    workers: int | None = None,
    scheduler: str | None = None,
    shard_bytes: int = corpus_io.DEFAULT_SHARD_BYTES,
    progress: bool | None = None,
    processes: int = 1,
) -> CountRun:
    """Document counts of every fact over ``corpus``, resuming from finished shards in ``work_dir``.

    Shards whose partial counts are already in ``work_dir`` (same facts, settings
    and unchanged file) are not read again. Without ``workers``/``scheduler`` the
    shards are counted by ``processes`` local processes (1: in this process);
    otherwise on a Dask cluster. The totals are
    sums of integer counts, so they do not depend on the order or the worker count.
    """
    if workers is not None and scheduler is not None:
        raise SmiError("give either --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise SmiError(f"--workers must be at least 1, got {workers}")
    if processes < 1:
        raise SmiError(f"--processes must be at least 1, got {processes}")
    if processes > 1 and (workers is not None or scheduler is not None):
        raise SmiError("give --processes or a Dask cluster (--workers/--scheduler), not both")
    facts = as_facts(triples)
    strings = fact_strings(facts)
    shards = corpus_io.plan_shards(corpus_io.expand_corpus(corpus), shard_bytes)
    result_paths = {shard: shard_result_path(work_dir, shard, strings, settings) for shard in shards}
    pending = [shard for shard in shards if not result_paths[shard].is_file()]

    started = time.perf_counter()
    done = {"docs": 0, "bytes": 0}
    bar = _progress_bar(len(pending), progress)

    def on_done(shard: corpus_io.Shard, result: ShardResult) -> None:
        save_shard_result(result_paths[shard], result)
        done["docs"] += result.counts.n_docs
        done["bytes"] += result.counts.n_bytes
        elapsed = max(time.perf_counter() - started, 1e-9)
        bar.set_postfix_str(f"{done['docs'] / elapsed:,.0f} docs/s, {done['bytes'] / elapsed / 1e6:.1f} MB/s", refresh=False)
        bar.update(1)

    try:
        if pending:
            if workers is None and scheduler is None:
                _run_on_processes(pending, strings, settings, on_done, processes)
            else:
                _run_on_dask(pending, strings, settings, on_done, workers, scheduler)
    finally:
        bar.close()
    elapsed = time.perf_counter() - started

    total = Counts.zeros(strings)
    skipped = corpus_io.SkipLog()
    for shard in shards:
        result = load_shard_result(result_paths[shard])
        total.add(result.counts)
        skipped.merge(result.skipped)
    if total.n_docs == 0:
        raise SmiError(f"empty corpus: no documents in {', '.join(str(spec) for spec in corpus)}")
    metadata = {
        "documents": total.n_docs,
        "text_bytes": total.n_bytes,
        "files": len({shard.path for shard in shards}),
        "shards": len(shards),
        "shards_counted": len(pending),
        "shards_reused": len(shards) - len(pending),
        "match": settings.match,
        "text_field": settings.text_field,
        "skipped_lines": skipped.count,
        "skipped_examples": skipped.examples,
        "seconds": round(elapsed, 3),
    }
    return CountRun(facts, count_columns(strings, total), metadata)


# ---------------------------------------------------------------------------
# output


def check_output_path(out: Path) -> Path:
    """Require an output ending in .csv, .parquet or .json (checked before any counting)."""
    out = Path(out)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise SmiError(f"{out}: output must end in {', '.join(OUTPUT_SUFFIXES)}")
    return out


def metadata_path(out: Path) -> Path:
    """The metadata written next to an output: ``counts.csv`` → ``counts.csv.meta.json``."""
    return Path(out).with_name(Path(out).name + ".meta.json")


def _write_csv(run: CountRun, path: Path) -> None:
    """The table as CSV, formatted as pandas' ``to_csv(index=False)`` formats it."""
    columns = run.columns()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=os.linesep)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values()))


def _json_text(value: str | int) -> str:
    """A str or int as JSON text, non-ASCII characters kept."""
    return json.encoder.encode_basestring(value) if isinstance(value, str) else int.__repr__(value)


def _write_json(run: CountRun, path: Path) -> None:
    """The table as a JSON list of records, formatted as pandas' ``to_json(orient="records", force_ascii=False, indent=1)``.

    That is one field per line, ``"name":value`` without a space, and ``/`` escaped as ``\\/``.
    """
    columns = run.columns()
    record = "{\n  " + ",\n  ".join(f'"{name}":%s' for name in columns) + "\n }"
    texts = [[_json_text(value) for value in column] for column in columns.values()]
    body = ",\n ".join(record % values for values in zip(*texts))
    path.write_text(("[\n " + body + "\n]").replace("/", "\\/"), encoding="utf-8")


def write_counts(run: CountRun, out: Path) -> list[Path]:
    """Write the table (CSV, parquet or a JSON list like the release's) and its metadata, each atomically.

    CSV and JSON are written with the csv and json modules when every fact value is
    a str or an int, byte for byte as pandas writes them; otherwise through pandas.
    """
    out = check_output_path(out)
    meta = metadata_path(out)
    # the table is renamed into place first, then its metadata (inner block exits first)
    with atomic_output(meta) as meta_temporary, atomic_output(out) as temporary:
        _write_table(run, temporary, out.suffix.lower())
        meta_temporary.write_text(json.dumps(run.metadata, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return [out, meta]


def _write_table(run: CountRun, temporary: Path, suffix: str) -> None:
    """Write the counts table to ``temporary`` in the format of ``suffix``."""
    plain = suffix != ".parquet" and run.facts.is_plain()
    if suffix == ".csv" and plain:
        _write_csv(run, temporary)
    elif suffix == ".json" and plain:
        _write_json(run, temporary)
    elif suffix == ".csv":
        run.table.to_csv(temporary, index=False)
    elif suffix == ".json":
        temporary.write_text(run.table.to_json(orient="records", force_ascii=False, indent=1), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(run.table, preserve_index=False)
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), b"smi_count": json.dumps(run.metadata).encode()})
        pq.write_table(arrow, temporary)


def remove_work_dir(work_dir: Path) -> None:
    """Delete a work folder of shard results (after its totals were written)."""
    shutil.rmtree(work_dir, ignore_errors=True)
