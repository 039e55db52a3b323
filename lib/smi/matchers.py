r"""Finding fact names in documents: two engines that give the same (document, name) pairs.

Both engines implement the two match rules of :mod:`smi.counting` exactly:

* ``"paper"``: the pattern ``" " + name`` occurs as a substring;
* ``"word"``: the pattern ``name`` occurs with no word character (:func:`is_word_character`)
  directly before or after it.

Every occurrence counts, overlapping ones included: ``" English"`` is found inside
``" English language"`` even when ``" English language"`` is a name too. (Leftmost-
longest, non-overlapping search would miss it, so neither engine uses it.)

Both scan a block of documents joined by NUL (which no name contains) in one pass
and map each match's end offset to its document by binary search.
``pyahocorasick`` (:class:`AhoCorasickMatcher`) scans Python text;
``hyperscan`` (:class:`HyperscanMatcher`) scans the documents' UTF-8 bytes. A name's
UTF-8 bytes occur in a document's UTF-8 bytes exactly where the name occurs in its
text (UTF-8 is self-synchronising, and every pattern starts with a character's first
byte), so byte offsets need no conversion back to characters; under the word rule
the characters around a match are decoded from the bytes.

Hyperscan is optional: :func:`resolve_engine` chooses it for ``auto`` when it is
installed and the names are few enough for it to win (:data:`HYPERSCAN_MAX_NAMES`);
its compiled database is cached in the work folder (:func:`hyperscan_database`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from smi.errors import ParameterValueError, SmiError
from smi.files import atomic_output

MATCH_MODES = ("paper", "word")
ENGINES = ("auto", "hyperscan", "pyahocorasick")
#: Joins the documents of a block; names may not contain it, so no match spans two documents.
SEPARATOR = "\x00"
#: Most distinct names for which ``auto`` picks Hyperscan. Measured with
#: ``bench/count_bench.py --sections crossover`` (made-up entity-like names, paper rule, 20 copies of the
#: vital-article summaries in memory, one process, 2 shared cores at load 3): Hyperscan / pyahocorasick
#: matching-and-counting speed was 1.05x at 12,671 names, 1.00x at 25,000, 0.69x at 50,000 and 0.52x at
#: 100,000 (compiling took 0.44, 0.94, 2.46 and 4.58 s); so Hyperscan stops winning at about 25,000 names.
HYPERSCAN_MAX_NAMES = 25_000
#: Bytes of corpus per name below which ``auto`` does not compile a Hyperscan database (when none is
#: cached). Measured in the same run on the 12,671 released facts (13,098 names): compiling took 0.44 s
#: (34 µs per name), and matching took 32.9 ms (Hyperscan) against 60.5 ms (pyahocorasick) per 4.9 MB
#: copy of the summaries, 5.6 ms saved per MB; so compiling pays off above about 6 KB of text per name
#: (about 80 MB for the released facts).
HYPERSCAN_MIN_BYTES_PER_NAME = 6_000
#: Layout of a cached Hyperscan database file: raise it when :func:`hyperscan_database` changes it.
HYPERSCAN_CACHE_FORMAT = 1
_CACHE_MAGIC = b"smi-hyperscan-database\n"
#: Characters by how often they occur in English text. The automaton's trie keeps a
#: node's children in insertion order and searches them in that order, so inserting
#: names with frequent characters first makes the scan faster (results are unchanged).
_FREQUENT_CHARACTERS = " etaoinsrhldcumfpgwybvkxjqzTSACMBPHRDLEWNGIFOJKUVYQZX0123456789.,-'()"
#: ASCII bytes that are word characters (letters, digits, ``_``).
_ASCII_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class _RankTable(dict):
    """str.translate table: frequent characters to their rank, any other character after all of them."""

    def __missing__(self, code_point: int) -> int:
        return len(_FREQUENT_CHARACTERS) + code_point


_RANK_TABLE = _RankTable({ord(character): rank for rank, character in enumerate(_FREQUENT_CHARACTERS)})


def check_match(match: str) -> str:
    """Return ``match`` if it is one of :data:`MATCH_MODES`; :class:`SmiError` otherwise."""
    if match not in MATCH_MODES:
        raise SmiError(f"unknown match mode '{match}'; valid modes: {', '.join(MATCH_MODES)}")
    return match


def search_patterns(strings: Iterable[str], match: str) -> list[str]:
    """What is looked for: ``" " + name`` for the paper's rule, the name itself for ``word``."""
    check_match(match)
    return [" " + name for name in strings] if match == "paper" else list(strings)


def is_word_character(character: str) -> bool:
    """Letters and digits of any script, and ``_`` (what ``\\w`` matches in Python's ``re``)."""
    return character.isalnum() or character == "_"


# ---------------------------------------------------------------------------
# choosing an engine


def hyperscan_or_none():
    """The ``hyperscan`` module, or None where it is not installed (or its library does not load)."""
    try:
        import hyperscan
    except (ImportError, OSError):
        return None
    return hyperscan


def engine_version(engine: str) -> str:
    """The engine and its library's version, e.g. ``hyperscan 0.9.1`` (recorded in the metadata)."""
    from importlib import metadata

    try:
        return f"{engine} {metadata.version(engine)}"
    except metadata.PackageNotFoundError:
        return engine


def resolve_engine(
    requested: str, n_names: int, corpus_bytes: int | None = None, database_cached: bool = False
) -> tuple[str, str | None]:
    """The engine to use for ``requested`` (one of :data:`ENGINES`) and ``n_names`` names, with a note or None.

    ``auto`` picks Hyperscan when it is installed, ``n_names`` is at most
    :data:`HYPERSCAN_MAX_NAMES`, and its compiled database is cached or the corpus
    (``corpus_bytes``, when known) is large enough to pay for compiling it
    (:data:`HYPERSCAN_MIN_BYTES_PER_NAME`); pyahocorasick otherwise. Without
    Hyperscan it falls back with a note. An explicit ``hyperscan`` without the
    package is an error.

    Raises
    ------
    SmiError
        For an unknown engine, or ``hyperscan`` where it is not installed.
    """
    if requested not in ENGINES:
        raise SmiError(f"unknown engine '{requested}'; valid engines: {', '.join(ENGINES)}")
    if requested == "pyahocorasick":
        return requested, None
    installed = hyperscan_or_none() is not None
    if requested == "hyperscan":
        if not installed:
            raise ParameterValueError(
                "engine",
                "hyperscan: the hyperscan package is not installed here "
                "(pip install hyperscan; wheels exist for Linux x86_64); use auto or pyahocorasick",
            )
        return requested, None
    if not installed:
        return "pyahocorasick", "hyperscan is not installed: counting with pyahocorasick (same counts, slower)"
    pays_off = database_cached or corpus_bytes is None or corpus_bytes >= HYPERSCAN_MIN_BYTES_PER_NAME * n_names
    return ("hyperscan" if n_names <= HYPERSCAN_MAX_NAMES and pays_off else "pyahocorasick"), None


# ---------------------------------------------------------------------------
# pyahocorasick


def _search_key(pattern: str) -> str:
    """Sort key putting names made of frequent characters first (character by character)."""
    return pattern.translate(_RANK_TABLE)


def build_automaton(strings: tuple[str, ...], match: str):
    """An Aho–Corasick automaton whose value for each pattern is the name's position in ``strings``."""
    import ahocorasick

    patterns = search_patterns(strings, match)
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    keys = list(map(_search_key, patterns))
    for string_id in sorted(range(len(patterns)), key=keys.__getitem__):
        automaton.add_word(patterns[string_id], string_id)
    automaton.make_automaton()
    return automaton


def _at_word_boundaries(block: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Whether each match [start, end] (inclusive) has no word character right before or after it."""
    last = len(block) - 1
    return np.fromiter(
        (
            (start == 0 or not is_word_character(block[start - 1]))
            and (end == last or not is_word_character(block[end + 1]))
            for start, end in zip(starts.tolist(), ends.tolist())
        ),
        dtype=bool,
        count=len(starts),
    )


def find_names(automaton, texts: list[str], match: str, name_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(document, name) index pairs for every occurrence of a name in ``texts`` (repeats included).

    The texts are joined with :data:`SEPARATOR` and scanned once; the end position
    of each match is mapped to its document by binary search over the documents'
    start offsets. ``name_lengths`` holds each name's length in characters.
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


class AhoCorasickMatcher:
    """The pyahocorasick engine: one automaton over the patterns, one scan per block of documents."""

    name = "pyahocorasick"

    def __init__(self, strings: tuple[str, ...], match: str):
        self.match = check_match(match)
        self.automaton = build_automaton(strings, match)
        self.name_lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))

    def find(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
        """(document, name) pairs of ``texts`` (repeats possible) and the texts' UTF-8 bytes."""
        docs, name_ids = find_names(self.automaton, texts, self.match, self.name_lengths)
        n_bytes = sum(len(text.encode("utf-8", "surrogatepass")) for text in texts)
        return docs, name_ids, n_bytes


# ---------------------------------------------------------------------------
# Hyperscan


def _word_character_before(data: bytes, start: int) -> bool:
    """Whether the character ending right before byte ``start`` of UTF-8 ``data`` is a word character."""
    if start == 0:
        return False
    byte = data[start - 1]
    if byte < 0x80:
        return byte in _ASCII_WORD_BYTES
    begin = start - 1
    while data[begin] & 0xC0 == 0x80:  # continuation bytes: walk back to the character's first byte
        begin -= 1
    return is_word_character(data[begin:start].decode("utf-8", "surrogatepass"))


def _word_character_after(data: bytes, end: int) -> bool:
    """Whether the character starting at byte ``end`` of UTF-8 ``data`` is a word character."""
    if end >= len(data):
        return False
    byte = data[end]
    if byte < 0x80:
        return byte in _ASCII_WORD_BYTES
    width = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
    return is_word_character(data[end : end + width].decode("utf-8", "surrogatepass"))


def hyperscan_database_key(patterns: list[bytes], match: str) -> str:
    """SHA-256 (hex) of what a compiled database depends on: patterns, rule, flags and Hyperscan's version."""
    digest = hashlib.sha256()
    header = {"format": HYPERSCAN_CACHE_FORMAT, "match": match, "hyperscan": engine_version("hyperscan")}
    digest.update(json.dumps(header, sort_keys=True).encode("ascii"))
    digest.update(np.fromiter(map(len, patterns), dtype=np.int64, count=len(patterns)).tobytes())
    digest.update(b"".join(patterns))
    return digest.hexdigest()


def hyperscan_cache_file(strings: tuple[str, ...], match: str, cache_dir: Path) -> Path:
    """Where the database for ``strings`` and ``match`` is cached in ``cache_dir`` (whether or not it is there)."""
    patterns = [pattern.encode("utf-8") for pattern in search_patterns(strings, match)]
    return hyperscan_cache_path(cache_dir, hyperscan_database_key(patterns, match))


def hyperscan_cached_path(strings: tuple[str, ...], match: str, cache_dir: Path) -> Path | None:
    """The cache file of the database for ``strings`` and ``match`` in ``cache_dir`` if it exists, else None."""
    if hyperscan_or_none() is None:
        return None
    path = hyperscan_cache_file(strings, match, cache_dir)
    return path if path.is_file() else None


def hyperscan_cache_path(cache_dir: Path, key: str) -> Path:
    """Where the database with this :func:`hyperscan_database_key` is cached: ``hyperscan-<32 hex digits>.hsdb``."""
    return Path(cache_dir) / f"hyperscan-{key[:32]}.hsdb"


def compile_hyperscan(patterns: list[bytes], match: str):
    """A block-mode Hyperscan database of literal ``patterns``, pattern i reported with id i, every occurrence.

    Not ``HS_FLAG_SINGLEMATCH``: a block of many documents is scanned at once, and a
    name must be found in each of them (one scan per document with single matches
    was slower in ``bench/count_bench.py``: the scan calls cost more than the repeats).
    """
    import hyperscan

    check_match(match)
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=patterns, ids=list(range(len(patterns))), elements=len(patterns), flags=0, literal=True
    )
    return database


def _cached_database_bytes(key: str, blob: bytes) -> bytes:
    """The cache file's content: a header naming the key and the blob's SHA-256, then the serialized database."""
    return _CACHE_MAGIC + f"{key} {hashlib.sha256(blob).hexdigest()}\n".encode("ascii") + blob


def _read_cached_database(path: Path, key: str):
    """The database cached at ``path`` for ``key``; ValueError with the reason when it is not usable."""
    import hyperscan

    content = path.read_bytes()
    if not content.startswith(_CACHE_MAGIC):
        raise ValueError("not a cached database")
    header, separator, blob = content[len(_CACHE_MAGIC) :].partition(b"\n")
    if not separator or header.split() != [key.encode("ascii"), hashlib.sha256(blob).hexdigest().encode("ascii")]:
        raise ValueError("saved for other names, rule or Hyperscan, or damaged")
    try:
        return hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
    except Exception as error:  # hyperscan raises its own error types for a database of another platform
        raise ValueError(f"Hyperscan cannot load it ({type(error).__name__}: {error})") from None


def hyperscan_database(
    patterns: list[bytes], match: str, cache_dir: Path | None = None, note: Callable[[str], None] | None = None
):
    """The compiled database of ``patterns``: read from ``cache_dir`` when cached there, else compiled (and cached).

    The cache file is keyed on :func:`hyperscan_database_key` and written atomically;
    one that cannot be read, was saved for another key or fails its checksum is
    compiled again (with ``note`` told why). Returns the database and the cache
    file's path (None without ``cache_dir``).
    """
    key = hyperscan_database_key(patterns, match)
    path = hyperscan_cache_path(cache_dir, key) if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            return _read_cached_database(path, key), path
        except (OSError, ValueError) as error:
            if note is not None:
                note(f"{path}: cached Hyperscan database is unusable ({error}); compiling it again")
    database = compile_hyperscan(patterns, match)
    if path is not None:
        import hyperscan

        with atomic_output(path) as temporary:
            temporary.write_bytes(_cached_database_bytes(key, hyperscan.dumpb(database)))
    return database, path


class HyperscanMatcher:
    """The Hyperscan engine: one compiled database of the patterns' UTF-8 bytes, one scan per document."""

    name = "hyperscan"

    def __init__(
        self,
        strings: tuple[str, ...],
        match: str,
        cache_dir: Path | None = None,
        note: Callable[[str], None] | None = None,
    ):
        import hyperscan

        self.match = check_match(match)
        patterns = [pattern.encode("utf-8") for pattern in search_patterns(strings, match)]
        self.pattern_bytes = [len(pattern) for pattern in patterns]
        self.database, self.cache_path = hyperscan_database(patterns, match, cache_dir, note)
        self.scratch = hyperscan.Scratch(self.database)  # a fresh scratch, also after loading a database

    def find(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
        """(document, name) pairs of ``texts`` (repeats included) and the texts' UTF-8 bytes.

        The documents' UTF-8 bytes are joined with NUL and scanned once; each match's
        end offset is mapped to its document by binary search over the documents'
        byte offsets. Under the word rule a match is kept when the characters around
        it (decoded from the bytes) are not word characters.
        """
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        block = SEPARATOR.encode("ascii").join(encoded)
        hits: list[int] = []
        append = hits.append
        if self.match == "paper":

            def on_match(name_id, start, end, flags, context):
                append(name_id)
                append(end)

        else:
            pattern_bytes = self.pattern_bytes

            def on_match(name_id, start, end, flags, context):
                if not _word_character_before(block, end - pattern_bytes[name_id]) and not _word_character_after(
                    block, end
                ):
                    append(name_id)
                    append(end)

        self.database.scan(block, match_event_handler=on_match, scratch=self.scratch)
        pairs = np.array(hits, dtype=np.int64)
        doc_bytes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        doc_starts = np.concatenate(([0], np.cumsum(doc_bytes + 1)[:-1]))
        docs = np.searchsorted(doc_starts, pairs[1::2] - 1, side="right") - 1
        return docs, pairs[0::2], int(doc_bytes.sum())


def build_matcher(
    strings: tuple[str, ...],
    match: str,
    engine: str,
    cache_dir: Path | None = None,
    note: Callable[[str], None] | None = None,
):
    """An :class:`AhoCorasickMatcher` or :class:`HyperscanMatcher` (``engine`` already resolved, not ``auto``)."""
    if engine == "hyperscan":
        return HyperscanMatcher(strings, match, cache_dir, note)
    if engine == "pyahocorasick":
        return AhoCorasickMatcher(strings, match)
    raise SmiError(f"unknown engine '{engine}'; valid engines: {', '.join(ENGINES[1:])}")
