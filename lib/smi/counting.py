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
go into one matcher (:mod:`smi.matchers`: a Hyperscan database or a pyahocorasick
automaton, chosen by ``engine``; both give the same matches); a block of many
documents is joined with a separator that no name contains and scanned in one pass;
each match position is mapped back to its document with a binary search over the
document offsets. What does not depend on the documents (the matcher, the facts
grouped by subject) is prepared once per run and process (:class:`NameScan`).
The (document, string) pairs form a sparse 0/1 *presence matrix* :math:`X`, and

.. math::

    n_s = \sum_d X_{d s}, \qquad n_{so} = \sum_d X_{d s} X_{d o},

so only the documents in which a name was found cost anything beyond the scan.
Memory is bounded by the block size, whatever the corpus size.

:func:`count_corpus` runs this over shards of a corpus (see :mod:`smi.corpus_io`),
serially, on forked processes or on a Dask cluster, and keeps each finished
shard's partial counts in a work folder so that an interrupted run resumes where
it stopped. A saved result is keyed on everything that determines it
(:func:`shard_key`: the code's version, the names, the settings, the file's
status and byte range) and checked when read back; anything else is counted
again. :func:`write_counts` writes the table and its metadata, which records the
table's SHA-256, as one pair.
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import functools
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smi import corpus_io, matchers
from smi.errors import SmiError
from smi.files import TEMPORARY_SUFFIX, atomic_output, atomic_outputs, check_writable, file_sha256, temporary_path
from smi.matchers import (  # noqa: F401  (importable from here, as before)
    ENGINES,
    MATCH_MODES,
    SEPARATOR,
    build_automaton,
    find_names,
    is_word_character,
    search_patterns,
)
from smi.records import COUNT_FIELDS, FACT_FIELDS

if TYPE_CHECKING:  # pandas is imported only where a function needs it, to keep `smi count` quick to start
    import pandas as pd

#: Characters of text scanned in one pass (about 16 MB of automaton input).
DEFAULT_BLOCK_CHARS = 4 * 2**20
#: Documents added to a block at a time (a block may exceed ``block_chars`` by this many documents).
_BATCH_DOCUMENTS = 64
OUTPUT_SUFFIXES = (".csv", ".parquet", ".json")


# ---------------------------------------------------------------------------
# the facts


# The facts are read and checked by their one reader, smi.formats; the old names stay importable here.
from smi.formats import Facts, as_facts, check_facts, check_names, load_triples, read_fact_table  # noqa: E402,F401
from smi.formats import read_facts as read_triples  # noqa: E402,F401


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


def cached_automaton(strings: FactStrings, match: str):
    """The pyahocorasick automaton of ``strings``, built once per process (see :func:`prepared_scan`)."""
    return prepared_scan(strings, match, "pyahocorasick").matcher.automaton


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


# ---------------------------------------------------------------------------
# settings, and shard results saved in the work folder under a key


@dataclass(frozen=True)
class CountSettings:
    """Everything besides the facts and the corpus that changes the counts."""

    match: str = "paper"
    text_field: str = "text"
    skip_bad_lines: bool = False
    block_chars: int = DEFAULT_BLOCK_CHARS
    engine: str = "auto"  # one of smi.matchers.ENGINES; the counts do not depend on it

    def __post_init__(self) -> None:
        matchers.check_match(self.match)
        if self.engine not in ENGINES:
            raise SmiError(f"unknown engine '{self.engine}'; valid engines: {', '.join(ENGINES)}")
        if self.block_chars <= 0:
            raise SmiError(f"block size must be positive, got {self.block_chars} characters")

    def key(self) -> dict:
        """The settings that change counts (the block size and the engine do not)."""
        return {"match": self.match, "text_field": self.text_field, "skip_bad_lines": self.skip_bad_lines}


#: Version of the layout and meaning of a saved shard result: raise it when either changes.
#: Any other change of the engine's code changes :func:`engine_version` through its source hash.
SHARD_FORMAT = 2
#: What :func:`smi.files.atomic_output` leaves of a shard result whose writer was killed.
SHARD_TEMPORARY = re.compile(r"\.(shard-[0-9a-f]{32}\.npz|hyperscan-[0-9a-f]{32}\.hsdb)\.[A-Za-z0-9_]+\.tmp")
_SHARD_ARRAYS = ("key", "n_docs", "n_bytes", "name_docs", "joint_docs", "skipped_count", "skipped_examples")


@functools.cache
def engine_version() -> str:
    """The version of the code that computes shard results: :data:`SHARD_FORMAT` and a hash of its source.

    The hash covers this module, :mod:`smi.matchers` (the engines), :mod:`smi.corpus_io`
    (the reader) and numpy's version,
    so a shard result computed by other code is never reused.
    """
    digest = hashlib.sha256()
    for module in (sys.modules[__name__], matchers, corpus_io):
        try:
            digest.update(Path(module.__file__).read_bytes())
        except (OSError, TypeError):  # no source file (a frozen build): the package version stands in
            from smi import __version__

            digest.update(f"{module.__name__} {__version__}".encode())
    digest.update(f"numpy {np.__version__}".encode())
    return f"{SHARD_FORMAT}.{digest.hexdigest()[:16]}"


def shard_key(shard: corpus_io.Shard, names_fingerprint: str, settings: CountSettings) -> str:
    """SHA-256 (hex) of everything that determines a shard's partial counts.

    That is the engine's version (:func:`engine_version`), the names searched for
    (:meth:`FactStrings.fingerprint`), the settings that change counts, and the
    shard: its file's path, size, times and inode, and its byte range
    (:meth:`smi.corpus_io.Shard.identity`).
    """
    parts = {
        "engine": engine_version(),
        "names": names_fingerprint,
        "settings": settings.key(),
        "shard": shard.identity(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("ascii")).hexdigest()


def shard_result_path(work_dir: Path, key: str) -> Path:
    """Where the partial counts of the shard with this :func:`shard_key` are saved: ``shard-<32 hex digits>.npz``."""
    return Path(work_dir) / f"shard-{key[:32]}.npz"


@dataclass
class ShardResult:
    """A shard's counts, the lines it skipped, and the :func:`engine_version` that counted it."""

    counts: Counts
    skipped: corpus_io.SkipLog = field(default_factory=corpus_io.SkipLog)
    seconds: float = 0.0
    engine: str = ""


def count_shard(shard: corpus_io.Shard, strings: FactStrings, settings: CountSettings) -> ShardResult:
    """Count one shard (runs on a Dask worker, in a forked process, or in the calling process).

    Raises :class:`SmiError` when the file changed after the work was planned, so that
    counts are never saved under the key of a file that no longer has that content.
    """
    started = time.perf_counter()
    skipped = corpus_io.SkipLog() if settings.skip_bad_lines else None
    texts = corpus_io.read_documents(shard, settings.text_field, skipped)
    counts = count_texts(texts, strings, settings.match, settings.block_chars, settings.engine)
    if not shard.is_unchanged():
        raise SmiError(f"{shard.path}: the file changed while it was being counted; rerun once it no longer changes")
    return ShardResult(counts, skipped or corpus_io.SkipLog(), time.perf_counter() - started, engine_version())


def save_shard_result(path: Path, result: ShardResult, key: str) -> Path:
    """Write a shard's counts and their key atomically (a unique temporary file renamed into place)."""
    path = Path(path)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        key=np.array(key),
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


def load_shard_result(path: Path, key: str, strings: FactStrings) -> ShardResult:
    """Read back what :func:`save_shard_result` wrote, checking that it is the result for ``key``.

    Raises
    ------
    ValueError
        With the reason, when the file cannot be read (truncated, not an .npz, arrays
        missing), was saved under another key, or does not fit ``strings`` (array
        lengths, negative counts, more documents per name than documents).
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in _SHARD_ARRAYS}
    except KeyError as error:
        raise ValueError(f"no array {error}") from None
    except Exception as error:  # np.load and zipfile raise many types for a damaged file
        raise ValueError(f"unreadable: {type(error).__name__}: {error}") from None
    if arrays["key"].shape != () or str(arrays["key"]) != key:
        raise ValueError("saved for other facts, settings, file or code")
    name_docs, joint_docs = arrays["name_docs"], arrays["joint_docs"]
    scalars = [arrays[name] for name in ("n_docs", "n_bytes", "skipped_count")]
    if any(array.shape != () or array.dtype.kind not in "iu" for array in scalars):
        raise ValueError("damaged totals")
    if name_docs.shape != (len(strings.strings),) or joint_docs.shape != (len(strings.subj_ids),):
        raise ValueError(
            f"arrays for {name_docs.shape} names and {joint_docs.shape} facts, "
            f"not ({len(strings.strings)},) and ({len(strings.subj_ids)},)"
        )
    if name_docs.dtype.kind not in "iu" or joint_docs.dtype.kind not in "iu":
        raise ValueError("counts are not integers")
    n_docs = int(arrays["n_docs"])
    if min(n_docs, int(arrays["n_bytes"]), int(arrays["skipped_count"])) < 0 or any(
        len(array) and (array.min() < 0 or array.max() > n_docs) for array in (name_docs, joint_docs)
    ):
        raise ValueError("counts out of range")
    try:
        examples = json.loads(str(arrays["skipped_examples"]))
    except ValueError as error:
        raise ValueError(f"damaged skipped-line examples ({error})") from None
    if not (isinstance(examples, list) and all(isinstance(example, str) for example in examples)):
        raise ValueError("damaged skipped-line examples")
    counts = Counts(n_docs, int(arrays["n_bytes"]), name_docs.astype(np.int64), joint_docs.astype(np.int64))
    return ShardResult(counts, corpus_io.SkipLog(int(arrays["skipped_count"]), examples), engine=engine_version())


def note(message: str) -> None:
    """Tell the user something on stderr that is not an error (``smi: note: ...``)."""
    print(f"smi: note: {message}", file=sys.stderr)


def reuse_shard_result(path: Path, key: str, strings: FactStrings, label: str) -> ShardResult | None:
    """The saved result at ``path`` if there is one and it is sound; otherwise None (with a note if it was unusable)."""
    if not os.path.lexists(path):
        return None
    try:
        return load_shard_result(path, key, strings)
    except ValueError as error:
        note(f"{path}: saved result of {label} is unusable ({error}); counting it again")
        return None


def prepare_work_dir(work_dir: Path, needed_bytes: int = 0) -> Path:
    """Create the work folder and make sure a shard result can be written in it, before any counting.

    Raises :class:`SmiError` when it is a file, lies under a file, is read-only, or has
    less than ``needed_bytes`` free.
    """
    work_dir = Path(work_dir)
    if work_dir.exists() and not work_dir.is_dir():
        raise SmiError(f"{work_dir}: the work folder is a file")
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise SmiError(f"{work_dir}: cannot create the work folder: a parent of it is a file") from None
    except OSError as error:
        raise SmiError(f"{work_dir}: cannot create the work folder ({error.strerror})") from None
    try:
        temporary_path(shard_result_path(work_dir, "0" * 32)).unlink()
    except OSError as error:
        raise SmiError(f"{work_dir}: cannot write in the work folder ({error.strerror})") from None
    check_free_space(work_dir, needed_bytes, "the work folder")
    return work_dir


def check_free_space(folder: Path, needed_bytes: int, what: str) -> None:
    """Refuse, before the work, a folder whose disk has less than ``needed_bytes`` free (as far as it tells)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed_bytes:
        raise SmiError(
            f"{folder}: not enough free space for {what} ({free:,} bytes free, about {needed_bytes:,} needed)"
        )


def _open_folder(folder: Path) -> int | None:
    """A descriptor of ``folder`` to lock, or None where folders cannot be opened or locked (no fcntl)."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return None
    try:
        return os.open(folder, os.O_RDONLY)
    except OSError:
        return None


@contextmanager
def work_dir_in_use(work_dir: Path) -> Iterator[None]:
    """Hold a shared lock on the work folder while counting into it.

    Runs share a work folder freely (results are keyed on content); the lock only
    tells :func:`remove_orphaned_temporaries` whether another run is writing there.
    """
    fd = _open_folder(work_dir)
    if fd is None:
        yield
        return
    try:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)


def remove_orphaned_temporaries(work_dir: Path) -> int:
    """Remove temporary shard files left by killed runs, when no other run is using the folder; how many."""
    fd = _open_folder(work_dir)
    if fd is None:
        return 0
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        removed = 0
        for entry in os.scandir(work_dir):
            if SHARD_TEMPORARY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
        return removed
    except OSError:  # another run is counting here (or folders cannot be locked): leave its files alone
        return 0
    finally:
        os.close(fd)


def clean_work_dir(work_dir: Path, shard_files: Iterable[Path], remove_results: bool = True) -> None:
    """After a complete output: remove this run's shard results, orphaned temporaries, and the folder if then empty.

    Nothing else is touched: a user's file, or shard results of other facts or
    corpora, stay (and keep the folder). With ``remove_results=False`` (a work folder
    the user named) the shard results stay too, for later runs to reuse.
    """
    work_dir = Path(work_dir)
    if remove_results:
        for path in shard_files:
            Path(path).unlink(missing_ok=True)
    remove_orphaned_temporaries(work_dir)
    if remove_results:
        try:
            work_dir.rmdir()
        except OSError:
            if work_dir.is_dir():
                note(f"{work_dir} kept: it holds files this run did not make")


# ---------------------------------------------------------------------------
# counting shards: serially, on forked processes, on a Dask cluster


def _run_serially(shards, strings, settings, on_done) -> None:
    for shard in shards:
        on_done(shard, count_shard(shard, strings, settings))


#: What forked pool processes count with: set in the parent just before the fork.
_FORKED_JOB: tuple[FactStrings, CountSettings] | None = None
#: Linux's prctl option asking the kernel to send a signal when the parent exits.
_PR_SET_PDEATHSIG = 1


def _count_shard_in_fork(shard: corpus_io.Shard) -> ShardResult:
    strings, settings = _FORKED_JOB
    return count_shard(shard, strings, settings)


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent exits; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _exit_when_orphaned(parent_pid: int) -> None:
    """Poll (where the kernel cannot signal) and end this process once its parent is gone."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)


def _start_forked_child(parent_pid: int) -> None:
    """Pool initializer: die with the parent, and leave Ctrl-C to the parent (which stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _set_parent_death_signal():
        threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was set
        os._exit(1)


def _stop_pool(pool) -> None:
    """Stop a process pool at once: cancel what has not started and kill its processes."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # private, but stable since Python 3.2
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        try:
            process.join(5)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def _death_of(processes: list) -> str:
    """How the dead processes of a pool ended, e.g. ``killed by SIGKILL``."""
    endings = []
    for process in processes:
        code = process.exitcode
        if code is None or code == 0:
            continue
        if code < 0:
            try:
                endings.append(f"killed by {signal.Signals(-code).name}")
            except ValueError:
                endings.append(f"killed by signal {-code}")
        else:
            endings.append(f"exit status {code}")
    # the pool itself ends the other processes with SIGTERM once one has died
    first_causes = [ending for ending in endings if ending != "killed by SIGTERM"]
    return ", ".join(sorted(set(first_causes or endings))) or "ended abruptly"


def _run_on_processes(shards, strings, settings, on_done, processes: int, work_dir: Path) -> None:
    """Count shards on ``processes`` forked local processes (no cluster to start).

    The matcher is built once in this process before the fork, so every child
    inherits it instead of building its own. Children die with this process (see
    :func:`_start_forked_child`); a child that dies is reported as one
    :class:`SmiError`, the shards finished before it staying saved. Where ``fork``
    is unavailable the shards are counted serially.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    global _FORKED_JOB
    if processes == 1 or len(shards) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        _run_serially(shards, strings, settings, on_done)
        return
    prepared_scan(strings, settings.match, settings.engine)  # built here once, inherited by the children
    _FORKED_JOB = (strings, settings)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        min(processes, len(shards)), context, initializer=_start_forked_child, initargs=(os.getpid(),)
    )
    finished = False
    try:
        futures = {pool.submit(_count_shard_in_fork, shard): shard for shard in shards}
        children = list((getattr(pool, "_processes", None) or {}).values())
        for future in as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                for child in children:
                    child.join(1)
                raise SmiError(
                    f"a counting process died ({_death_of(children)}); "
                    f"the shards finished before are saved in {work_dir}: "
                    "rerun the same command to resume"
                ) from None
            on_done(futures[future], result)
        finished = True
    finally:
        _FORKED_JOB = None
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)


#: Seconds between checks that a Dask cluster still has workers, and how long it may have none.
_DASK_POLL_SECONDS = 2.0
_DASK_NO_WORKER_SECONDS = 60.0


def check_scheduler_address(address: str) -> str:
    """Refuse a malformed Dask scheduler address before any work (it must read like ``tcp://host:8786``)."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        registry.get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
            if not host or not 0 < port < 65536:
                raise ValueError(f"no host, or port {port} out of range")
    except (ValueError, TypeError) as error:
        raise SmiError(
            f"--scheduler {address}: not a Dask scheduler address such as tcp://host:8786 ({error})"
        ) from None
    return address


def _is_cluster_loss(error: BaseException) -> bool:
    """Whether an exception from Dask means the cluster, not the work, failed (workers or scheduler gone)."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    return isinstance(error, (OSError, CancelledError, KilledWorker, TimeoutError))


def _run_on_dask(
    shards, strings, settings, on_done, workers: int | None, scheduler: str | None, work_dir: Path
) -> None:
    """Count shards on a Dask cluster: a new local one with ``workers`` processes, or the one at ``scheduler``.

    The loss of every worker (none for :data:`_DASK_NO_WORKER_SECONDS`), of the
    scheduler, or of a task's workers too often (Dask's KilledWorker) ends the run
    with one :class:`SmiError`; the shards finished before stay saved.
    """
    import logging

    from distributed import Client, LocalCluster, wait

    where = scheduler or "(local cluster)"
    cluster = client = None
    # a lost cluster is reported below in one line, not by the tracebacks Dask's client logs
    dask_logs = [
        logging.getLogger(name)
        for name in ["distributed", *logging.root.manager.loggerDict]
        if name.startswith("distributed")
    ]
    log_levels = [log.level for log in dask_logs]
    for log in dask_logs:
        log.setLevel(logging.CRITICAL)
    try:
        try:
            if scheduler:
                client = Client(check_scheduler_address(scheduler), timeout="30s")
            else:
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster)
        except (OSError, ValueError, TypeError) as error:
            raise SmiError(f"cannot reach the Dask scheduler {where}: {error}") from None
        try:
            client.wait_for_workers(1, timeout=_DASK_NO_WORKER_SECONDS)
        except (TimeoutError, OSError):
            raise SmiError(
                f"the Dask scheduler {where} has no workers (waited {_DASK_NO_WORKER_SECONDS:.0f} s)"
            ) from None
        shared_strings = client.scatter(strings, broadcast=True)
        futures = {client.submit(count_shard, shard, shared_strings, settings, pure=False): shard for shard in shards}
        remaining, alone_since = set(futures), None
        while remaining:
            done, remaining = wait(remaining, timeout=_DASK_POLL_SECONDS, return_when="FIRST_COMPLETED")
            for future in done:
                on_done(futures[future], future.result())
            if done or client.nthreads():
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > _DASK_NO_WORKER_SECONDS:
                raise TimeoutError(f"no worker left for {_DASK_NO_WORKER_SECONDS:.0f} s")
    except SmiError:
        raise
    except Exception as error:
        if not _is_cluster_loss(error):
            raise
        detail = " ".join(str(error).split())
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        raise SmiError(
            f"lost the Dask cluster {where} ({type(error).__name__}: {detail or 'no detail'}); "
            f"the shards finished before are saved in {work_dir}: rerun the same command to resume"
        ) from None
    finally:
        _close_quietly(client, cluster)
        for log, level in zip(dask_logs, log_levels):
            log.setLevel(level)


def _close_quietly(*closables) -> None:
    """Close a Dask client and cluster, ignoring errors of a cluster that is already gone."""
    for closable in closables:
        if closable is None:
            continue
        try:
            closable.close()
        except Exception:  # a scheduler that died cannot be told goodbye
            pass


# ---------------------------------------------------------------------------
# counting a corpus


@dataclass
class CountRun:
    """The outcome of :func:`count_corpus`: the facts, their count columns and what went into them."""

    facts: Facts
    counts: dict[str, np.ndarray]  # the columns of COUNT_FIELDS, one value per fact
    metadata: dict
    shard_files: list[Path] = field(default_factory=list)  # the work folder's files this run used (shards, database)

    def columns(self) -> dict[str, list]:
        """Every output column (idx, subj, rel, obj, time_seqs, …, time_s0j0) as a list."""
        return {**self.facts.columns(), **{name: values.tolist() for name, values in self.counts.items()}}

    @functools.cached_property
    def table(self) -> pd.DataFrame:
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


def facts_sha256(facts: Facts) -> str:
    """SHA-256 of the fact columns idx, subj, rel, obj (recorded in the metadata)."""
    text = json.dumps(list(facts.columns().values()), default=repr)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def choose_engine(settings: CountSettings, strings: FactStrings, shards: list[corpus_io.Shard], work_dir: Path) -> str:
    """The engine of this run (``settings.engine`` with ``auto`` resolved, with a note when Hyperscan is missing).

    ``auto`` weighs the corpus's size (its files' bytes) against compiling a Hyperscan
    database, unless one is cached in ``work_dir`` (:func:`smi.matchers.resolve_engine`).
    """
    n_names = len(strings.strings)
    corpus_bytes = sum((shard.size if shard.stop is None else shard.stop) - shard.start for shard in shards)
    cached = (
        settings.engine == "auto"
        and n_names <= matchers.HYPERSCAN_MAX_NAMES
        and corpus_bytes < matchers.HYPERSCAN_MIN_BYTES_PER_NAME * n_names
        and matchers.hyperscan_cached_path(strings.strings, settings.match, work_dir) is not None
    )
    engine, engine_note = matchers.resolve_engine(settings.engine, n_names, corpus_bytes, cached)
    if engine_note:
        note(engine_note)
    return engine


def count_corpus(
    triples: Facts | pd.DataFrame,
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

    Each shard's partial counts are saved in ``work_dir`` under a key of everything
    that determines them (:func:`shard_key`: the engine's code, the names, the
    settings, the file's status and the byte range); a saved result is reused only
    when its key matches and it reads back sound, otherwise the shard is counted
    again (with a note when a file was unusable). Without ``workers``/``scheduler``
    the shards are counted by ``processes`` local processes (1: in this process);
    otherwise on a Dask cluster. The totals are sums of integer counts, so they do
    not depend on the order, the worker count or the engine (``settings.engine``:
    ``auto`` is resolved here once, with a note when Hyperscan is missing; a
    Hyperscan database is cached in ``work_dir``).
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
    check_names(facts, lambda row: f"facts row {row}")  # a DataFrame given here was not read by a reader
    strings = fact_strings(facts)
    shards = corpus_io.plan_shards(corpus_io.expand_corpus(corpus), shard_bytes)
    work_dir = prepare_work_dir(work_dir, needed_bytes=8 * (len(strings.strings) + len(facts)) + 4096)
    engine = choose_engine(settings, strings, shards, work_dir)
    local_settings = dataclasses.replace(settings, engine=engine)  # Dask workers resolve "auto" themselves
    names_fingerprint = strings.fingerprint()
    keys = {shard: shard_key(shard, names_fingerprint, settings) for shard in shards}
    result_paths = {shard: shard_result_path(work_dir, keys[shard]) for shard in shards}

    total = Counts.zeros(strings)
    skip_logs: dict[corpus_io.Shard, corpus_io.SkipLog] = {}

    def take(shard: corpus_io.Shard, result: ShardResult) -> None:
        total.add(result.counts)
        skip_logs[shard] = result.skipped

    started = time.perf_counter()
    with work_dir_in_use(work_dir):
        pending = []
        for shard in shards:
            reused = reuse_shard_result(result_paths[shard], keys[shard], strings, shard.label)
            if reused is None:
                pending.append(shard)
            else:
                take(shard, reused)
        done = {"docs": 0, "bytes": 0}
        bar = _progress_bar(len(pending), progress)

        def on_done(shard: corpus_io.Shard, result: ShardResult) -> None:
            if result.engine != engine_version():
                raise SmiError(
                    f"{shard.label} was counted by other counting code (version {result.engine or 'unknown'}, here "
                    f"{engine_version()}): install the same smi and numpy on every Dask worker"
                )
            save_shard_result(result_paths[shard], result, keys[shard])
            take(shard, result)
            done["docs"] += result.counts.n_docs
            done["bytes"] += result.counts.n_bytes
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar.set_postfix_str(
                f"{done['docs'] / elapsed:,.0f} docs/s, {done['bytes'] / elapsed / 1e6:.1f} MB/s", refresh=False
            )
            bar.update(1)

        # the database cached here by this run or an interrupted one, removed with the shard results
        database_files = (
            [matchers.hyperscan_cache_file(strings.strings, settings.match, work_dir)] if engine == "hyperscan" else []
        )
        if pending and workers is None and scheduler is None:
            prepared_scan(strings, local_settings.match, engine, cache_dir=work_dir)
        try:
            if pending and workers is None and scheduler is None:
                _run_on_processes(pending, strings, local_settings, on_done, processes, work_dir)
            elif pending:
                _run_on_dask(pending, strings, settings, on_done, workers, scheduler, work_dir)
        finally:
            bar.close()
    elapsed = time.perf_counter() - started

    skipped = corpus_io.SkipLog()
    for shard in shards:  # in corpus order, so the examples do not depend on which shard finished first
        skipped.merge(skip_logs[shard])
    if total.n_docs == 0:
        raise SmiError(f"empty corpus: no documents in {', '.join(str(spec) for spec in corpus)}")
    facts_hash = facts_sha256(facts)
    count_key = {
        "engine": engine_version(),
        "facts": facts_hash,
        "settings": settings.key(),
        "shards": [keys[shard] for shard in shards],
    }
    metadata = {
        "documents": total.n_docs,
        "text_bytes": total.n_bytes,
        "files": len({shard.path for shard in shards}),
        "shards": len(shards),
        "shards_counted": len(pending),
        "shards_reused": len(shards) - len(pending),
        "match": settings.match,
        "scan_engine": matchers.engine_version(engine),
        "text_field": settings.text_field,
        "skipped_lines": skipped.count,
        "skipped_examples": skipped.examples,
        "seconds": round(elapsed, 3),
        "engine": engine_version(),
        "facts_sha256": facts_hash,
        "count_key": hashlib.sha256(json.dumps(count_key, sort_keys=True).encode("ascii")).hexdigest(),
    }
    return CountRun(
        facts, count_columns(strings, total), metadata, [result_paths[shard] for shard in shards] + database_files
    )


# ---------------------------------------------------------------------------
# the output: checks before counting, one run at a time, table and metadata together


def check_output_path(out: Path) -> Path:
    """Require an output ending in .csv, .parquet or .json (checked before any counting)."""
    out = Path(out)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise SmiError(f"{out}: output must end in {', '.join(OUTPUT_SUFFIXES)}")
    return out


def metadata_path(out: Path) -> Path:
    """The metadata written next to an output: ``counts.csv`` → ``counts.csv.meta.json``."""
    return Path(out).with_name(Path(out).name + ".meta.json")


def lock_path(out: Path) -> Path:
    """The lock file a run holds while it counts into ``out``: ``counts.csv`` → ``counts.csv.lock``."""
    return Path(out).with_name(Path(out).name + ".lock")


def default_work_dir(out: Path) -> Path:
    """The work folder used without ``--work-dir``: ``counts.csv`` → ``counts.csv.parts``."""
    return Path(out).with_name(Path(out).name + ".parts")


def estimated_output_bytes(facts: Facts) -> int:
    """A low estimate of a counts table's size: the facts' text and about 40 bytes of counts per fact."""
    text = sum(
        len(str(value).encode("utf-8", "surrogatepass")) for column in facts.columns().values() for value in column
    )
    return text + 40 * len(facts)


def check_output_writable(out: Path, facts: Facts | None = None) -> Path:
    """Refuse, before counting, an output (or its metadata) that cannot be written.

    A folder, a path under a file, a read-only folder, and (with ``facts``) a disk
    without room for the table are :class:`SmiError`.
    """
    out = check_writable(check_output_path(out))
    check_writable(metadata_path(out), "output's metadata")
    if facts is not None:
        check_free_space(out.parent, estimated_output_bytes(facts), str(out.name))
    return out


def _lock_holder(fd: int) -> str:
    """What the run holding a lock file wrote in it (its pid, host and start)."""
    try:
        return os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "pid unknown"
    except OSError:
        return "pid unknown"


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed or replaced since)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


@contextmanager
def output_lock(out: Path) -> Iterator[Path | None]:
    """Hold ``OUT.lock`` exclusively while counting into ``out``; refuse at once if another run holds it.

    The lock file holds the holder's pid, host and start time, which the refusal
    names. It is removed (while still locked) when the block ends. Where file locks
    do not exist (no fcntl, or a file system without them), runs are not kept apart
    (with a note) and None is yielded.
    """
    try:
        import fcntl
    except ImportError:
        yield None
        return
    path = lock_path(out)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise SmiError(f"{path}: cannot create the lock file ({error.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _lock_holder(fd)
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SmiError(
                    f"{out}: another smi count is writing this output ({holder}); "
                    "wait for it to end or choose another --out"
                ) from None
            note(f"{path}: cannot lock ({error.strerror}): two runs into {out} would not be kept apart")
            yield None
            return
        if _same_file(fd, path):
            break
        os.close(fd)  # the previous holder removed this file while we waited: lock the one now at the path
    try:
        host = os.uname().nodename if hasattr(os, "uname") else "this host"
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {host}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        yield path
    finally:
        path.unlink(missing_ok=True)  # still locked, so no other run can hold a file that is about to vanish
        os.close(fd)


def remove_orphaned_output_temporaries(out: Path) -> None:
    """Remove temporaries of ``out`` and its metadata that a killed run left (call holding :func:`output_lock`)."""
    out = Path(out)
    names = [
        re.compile(re.escape(f".{path.name}.") + r"[A-Za-z0-9_]{8}" + re.escape(TEMPORARY_SUFFIX))
        for path in (out, metadata_path(out))
    ]
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return
    for entry in entries:
        if any(name.fullmatch(entry.name) for name in names) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) during the block and act on it after, so the block is never cut in two."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received and callable(previous):
        previous(signal.SIGINT, None)


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
    """The table as a JSON list of records, formatted as pandas'
    ``to_json(orient="records", force_ascii=False, indent=1)``.

    That is one field per line, ``"name":value`` without a space, and ``/`` escaped as ``\\/``.
    """
    columns = run.columns()
    record = "{\n  " + ",\n  ".join(f'"{name}":%s' for name in columns) + "\n }"
    texts = [[_json_text(value) for value in column] for column in columns.values()]
    body = ",\n ".join(record % values for values in zip(*texts))
    path.write_text(("[\n " + body + "\n]").replace("/", "\\/"), encoding="utf-8")


def _metadata_bytes(metadata: dict) -> bytes:
    """The metadata as indented JSON; a lone surrogate (e.g. from a file name) is written as its JSON escape."""
    return (json.dumps(metadata, indent=1, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def write_counts(run: CountRun, out: Path) -> list[Path]:
    """Write the table (CSV, parquet or a JSON list like the release's) and its metadata, as one pair.

    Both are written to unique temporaries and renamed into place together, the
    table first (:func:`smi.files.atomic_outputs`); the metadata records the
    table's SHA-256 (``output_sha256``), so a reader can tell that they belong
    together. Ctrl-C during the writing takes effect after both renames.

    CSV and JSON are written with the csv and json modules when every fact value is
    a str or an int, byte for byte as pandas writes them; otherwise through pandas.
    """
    out = check_output_path(out)
    meta = metadata_path(out)
    with _interrupts_deferred(), atomic_outputs([out, meta]) as (table_temporary, meta_temporary):
        _write_table(run, table_temporary, out.suffix.lower())
        metadata = {**run.metadata, "output_sha256": file_sha256(table_temporary)}
        meta_temporary.write_bytes(_metadata_bytes(metadata))
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
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), b"smi_count": json.dumps(run.metadata).encode()}
        )
        pq.write_table(arrow, temporary)
