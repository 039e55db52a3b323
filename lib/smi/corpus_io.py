"""Read the documents of a text corpus from JSON-lines or parquet files, shard by shard.

A corpus is given as files, folders or glob patterns. The formats:

* ``.jsonl``, ``.jsonl.gz``, ``.jsonl.zst``: one JSON object per line, the text in
  a string field (``text`` by default). A UTF-8 byte order mark at the start of a
  file is ignored, and blank lines (only whitespace) are not documents: both are
  common in real corpora and neither is an error or a skipped line. A byte order
  mark anywhere else, and JSON nested deeper than the parser's limit (about 1,000
  levels), make the line bad;
* ``.parquet``: a string column of that name.

``.gz`` files are decompressed by ``isal`` (isa-l) when it is installed, else by the
standard library's :mod:`gzip`; both give the same bytes and the same errors here.

Work is split into :class:`Shard` objects: one per file, or byte ranges of an
uncompressed ``.jsonl`` file larger than the shard size (a range holds the lines
that *start* inside it, so ranges never split a line).

Every problem in a file is a one-line :class:`~smi.errors.SmiError` naming the file
and line (or parquet row). With ``skip_bad_lines`` a bad line is instead recorded
in a :class:`SkipLog` and left out, so the caller can report how many were skipped.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smi.errors import ParameterValueError, SmiError, check_scalar

try:  # optional: about twice as fast as the standard library on JSON lines, with the same results
    from orjson import loads as _fast_json_loads
except ImportError:  # pragma: no cover - the standard library alone reads every line the same way
    _fast_json_loads = None

try:  # optional: isa-l's gzip reader is about three times as fast as the standard library's, with the same bytes
    from isal import igzip as _fast_gzip
    from isal.isal_zlib import error as _fast_gzip_error
except ImportError:  # pragma: no cover - the standard library reads every gzip file the same way
    _fast_gzip, _fast_gzip_error = None, zlib.error

#: File endings the readers understand.
CORPUS_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet")
#: Default largest byte range of an uncompressed ``.jsonl`` file read as one shard.
DEFAULT_SHARD_BYTES = 256 * 2**20
#: Most shards one corpus may be cut into (a tiny shard size would otherwise plan millions).
MAX_SHARDS = 100_000
#: The UTF-8 byte order mark, accepted at the start of a JSON-lines file.
UTF8_BOM = b"\xef\xbb\xbf"
#: How many skipped lines a :class:`SkipLog` keeps as examples (it counts them all).
SKIP_EXAMPLES = 20
_CHUNK = 2**20


def corpus_format(path: Path | str) -> str | None:
    """The corpus suffix of ``path`` (one of :data:`CORPUS_SUFFIXES`), or None."""
    name = str(path).lower()
    for suffix in CORPUS_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def expand_corpus(specs: list[str | Path]) -> list[Path]:
    """Corpus files named by ``specs`` (files, folders searched recursively, or globs), sorted, without repeats."""
    files: dict[Path, None] = {}
    for spec in specs:
        spec_path = Path(spec)
        if spec_path.is_dir():
            found = sorted(p for p in spec_path.rglob("*") if p.is_file() and corpus_format(p))
            if not found:
                raise SmiError(f"{spec}: folder holds no corpus files ({', '.join(CORPUS_SUFFIXES)})")
        elif spec_path.is_file():
            if corpus_format(spec_path) is None:
                raise SmiError(f"{spec}: unsupported corpus file (expected {', '.join(CORPUS_SUFFIXES)})")
            found = [spec_path]
        else:
            found = sorted(
                Path(p) for p in glob.glob(str(spec), recursive=True) if corpus_format(p) and Path(p).is_file()
            )
            if not found:
                raise SmiError(f"{spec}: no such corpus file, folder or matching glob")
        for path in found:
            files[path.resolve()] = None
    if not files:
        raise SmiError("empty corpus: no input files given")
    return list(files)


@dataclass(frozen=True)
class Shard:
    """One unit of counting work: a whole file, or the lines starting in bytes [start, stop) of a ``.jsonl`` file.

    ``size``, ``mtime_ns``, ``inode`` and ``ctime_ns`` are the file's status when the
    work was planned; they tell whether the file is still the one counted.
    """

    path: str
    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int
    start: int = 0
    stop: int | None = None

    @classmethod
    def of_file(cls, path: Path | str, stat: os.stat_result, start: int = 0, stop: int | None = None) -> Shard:
        """A shard of ``path`` whose status (from ``os.stat``) is ``stat``."""
        return cls(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns, start, stop)

    @property
    def label(self) -> str:
        """Human-readable name, e.g. ``part.jsonl[0:268435456]``."""
        if self.stop is None:
            return self.path
        return f"{self.path}[{self.start}:{self.stop}]"

    def identity(self) -> str:
        """What makes a finished shard reusable: the file's path, size, times, inode, and the byte range.

        Any write to a file changes its status-change time (``ctime``), which, unlike the
        modification time, programs cannot set back (only a change of the system clock
        could); replacing a file gives it a new inode. So a file whose content changed
        never has the identity it had before, even when its size and modification time
        were kept.
        """
        return f"{self.path}|{self.size}|{self.mtime_ns}|{self.inode}|{self.ctime_ns}|{self.start}|{self.stop}"

    def is_unchanged(self) -> bool:
        """Whether the file still has the size and modification time it had when this shard was planned.

        Where it is the same file (same inode) its status-change time must be the same
        too. A Dask worker on another machine may read its own copy of the file (another
        inode, another ``ctime``); size and modification time must match there.
        """
        try:
            stat = os.stat(self.path)
        except OSError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns):
            return False
        return stat.st_ino != self.inode or stat.st_ctime_ns == self.ctime_ns


def plan_shards(files: list[Path], shard_bytes: int = DEFAULT_SHARD_BYTES) -> list[Shard]:
    """Shards for ``files``: one per file, with uncompressed ``.jsonl`` files above ``shard_bytes`` cut into ranges.

    At most :data:`MAX_SHARDS` shards (checked before any is made), so that a tiny
    shard size is refused instead of filling memory with millions of shards.
    """
    shard_bytes = check_scalar(shard_bytes, "shard_bytes", "integer", minimum=1)
    stats = []
    for path in files:
        try:
            stats.append((path, os.stat(path)))
        except OSError as error:
            raise SmiError(f"{path}: cannot read ({error.strerror})") from None
    n_shards = sum(
        -(-stat.st_size // shard_bytes) if corpus_format(path) == ".jsonl" and stat.st_size > shard_bytes else 1
        for path, stat in stats
    )
    if n_shards > MAX_SHARDS:
        raise ParameterValueError(
            "shard_bytes",
            f"is too small: shards of {shard_bytes:,} bytes would cut the corpus into {n_shards:,} shards "
            f"(at most {MAX_SHARDS:,}); choose larger shards",
        )
    shards = []
    for path, stat in stats:
        if corpus_format(path) == ".jsonl" and stat.st_size > shard_bytes:
            for start in range(0, stat.st_size, shard_bytes):
                shards.append(Shard.of_file(path, stat, start, min(start + shard_bytes, stat.st_size)))
        else:
            shards.append(Shard.of_file(path, stat))
    return shards


@dataclass
class SkipLog:
    """Bad lines left out (``skipped`` of :func:`read_documents`): how many, and the first few as ``file:line: why``."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, where: str, reason: str) -> None:
        self.count += 1
        if len(self.examples) < SKIP_EXAMPLES:
            self.examples.append(f"{where}: {reason}")

    def merge(self, other: SkipLog) -> None:
        self.count += other.count
        self.examples.extend(other.examples[: SKIP_EXAMPLES - len(self.examples)])


# ---------------------------------------------------------------------------
# raw lines of the JSON-lines formats


def _zst_lines(handle) -> Iterator[bytes]:
    """Lines of a (possibly multi-frame) zstandard stream; a stream cut short raises EOFError."""
    import zstandard

    decompressor = zstandard.ZstdDecompressor()
    unpacker = decompressor.decompressobj()
    pending = b""
    in_frame = False
    while chunk := handle.read(_CHUNK):
        while chunk:
            pending += unpacker.decompress(chunk)
            in_frame = not unpacker.eof
            chunk = unpacker.unused_data if unpacker.eof else b""
            if unpacker.eof:
                unpacker = decompressor.decompressobj()
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if in_frame:
        raise EOFError("zstandard stream ended before the end of its frame")
    if pending:
        yield pending


def _raw_lines(shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(byte offset or line number, raw line) of a JSON-lines shard.

    For plain ``.jsonl`` the first item is the byte offset where the line starts
    (so a byte range can be read without counting the lines before it); for the
    compressed formats it is the 1-based line number.
    """
    suffix = corpus_format(shard.path)
    if suffix == ".jsonl":
        stop = shard.size if shard.stop is None else shard.stop
        with open(shard.path, "rb") as handle:
            position = shard.start
            if position > 0:
                handle.seek(position - 1)
                position += len(handle.readline()) - 1  # finish the line that began before the range
            pending = b""
            while position < stop:  # read in chunks and split them (readline per line costs more)
                chunk = handle.read(_CHUNK)
                if not chunk:
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    if position >= stop:
                        return
                    line += b"\n"
                    yield position, line
                    position += len(line)
            if pending and position < stop:
                yield position, pending
        return
    opener = open if suffix != ".jsonl.gz" else gzip.open if _fast_gzip is None else _fast_gzip.open
    with opener(shard.path, "rb") as handle:
        lines = _zst_lines(handle) if suffix == ".jsonl.zst" else handle
        for number, line in enumerate(lines, start=1):
            yield number, line


def _line_number(path: str, offset: int) -> int:
    """1-based number of the line starting at byte ``offset`` (counted only when an error needs it)."""
    newlines = 0
    with open(path, "rb") as handle:
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            remaining -= len(chunk)
    return newlines + 1


_scan_json_value = json.JSONDecoder().scan_once  # the C scanner behind json.loads, without its wrapper


def _parse_json_line(line: str) -> object:
    """One JSON value filling the whole line; json.loads gives the error message when it is not."""
    try:
        value, end = _scan_json_value(line, 0)
    except StopIteration:
        value, end = None, -1
    if end < 0 or line[end:].strip():
        return json.loads(line)  # raises the precise JSONDecodeError (or parses odd but valid lines)
    return value


def _record_of_line(line: bytes) -> object:
    """The JSON value of one line: by orjson when it accepts the line, else by the standard library.

    Lines orjson refuses go to the standard library, which gives the error message
    (or reads what only it accepts, such as ``NaN`` or an unpaired surrogate escape).
    """
    if _fast_json_loads is not None:
        try:
            return _fast_json_loads(line)
        except ValueError:  # orjson.JSONDecodeError
            pass
    try:
        return _parse_json_line(line.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"invalid UTF-8 at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"malformed JSON ({error.msg}, column {error.colno})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _text_of_line(line: bytes, text_field: str) -> str:
    """The text field of one JSON line; ValueError with a short reason when the line is not usable."""
    record = _record_of_line(line)
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    if text_field not in record:
        raise ValueError(f"missing field '{text_field}'")
    text = record[text_field]
    if not isinstance(text, str):
        raise ValueError(f"field '{text_field}' is not a string")
    return text


def _text_of_odd_line(line: bytes, text_field: str, first_line: bool, error: ValueError) -> str | None:
    """A line :func:`_text_of_line` refused: None for a blank line, the text after a byte order
    mark opening the file, or ``error`` (the refusal) raised again."""
    if line.isspace():
        return None
    if first_line and line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM) :]
        return None if not line or line.isspace() else _text_of_line(line, text_field)
    raise error


def _bad_line(shard: Shard, where: int, plain: bool, reason: str, skipped: SkipLog | None) -> None:
    """Raise the one-line error for the bad line at ``where`` (byte offset or line number), or log it in ``skipped``."""
    number = _line_number(shard.path, where) if plain else where
    if skipped is None:
        raise SmiError(f"{shard.path}: line {number}: {reason}") from None
    skipped.add(f"{shard.path}:{number}", reason)


def _jsonl_documents(
    shard: Shard, text_field: str, skipped: SkipLog | None, check_text: Callable[[str], str | None] | None
) -> Iterator[str]:
    plain = corpus_format(shard.path) == ".jsonl"
    first_line = 0 if plain else 1  # where the file's first line is: byte offset 0, or line number 1
    loads = _fast_json_loads if check_text is None else None  # a text to check takes the checked path
    try:
        for where, line in _raw_lines(shard):
            if loads is not None:  # the common case in one step; anything else takes the checked path below
                try:
                    text = loads(line)[text_field]
                    if text.__class__ is str:
                        yield text
                        continue
                except (ValueError, KeyError, TypeError, IndexError):
                    pass
            try:
                text = _text_of_line(line, text_field)
            except ValueError as refusal:
                try:
                    text = _text_of_odd_line(line, text_field, where == first_line, refusal)
                except ValueError as error:
                    _bad_line(shard, where, plain, str(error), skipped)
                    continue
                if text is None:
                    continue
            if check_text is not None and (problem := check_text(text)) is not None:
                _bad_line(shard, where, plain, problem, skipped)
                continue
            yield text
    except (EOFError, gzip.BadGzipFile, zlib.error, _fast_gzip_error) as error:
        raise SmiError(f"{shard.path}: truncated or corrupt compressed file ({error})") from None
    except OSError as error:
        raise SmiError(f"{shard.path}: cannot read ({error})") from None
    except Exception as error:
        if type(error).__name__ == "ZstdError":  # zstandard's own error type, imported lazily
            raise SmiError(f"{shard.path}: truncated or corrupt compressed file ({error})") from None
        raise


def _parquet_documents(
    shard: Shard, text_field: str, skipped: SkipLog | None, check_text: Callable[[str], str | None] | None
) -> Iterator[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(shard.path)
    except (pa.ArrowException, OSError) as error:
        raise SmiError(f"{shard.path}: not a readable parquet file ({error})") from None
    schema = parquet.schema_arrow
    if text_field not in schema.names:
        raise SmiError(f"{shard.path}: no column '{text_field}' (columns: {', '.join(schema.names)})")
    if not (
        pa.types.is_string(schema.field(text_field).type) or pa.types.is_large_string(schema.field(text_field).type)
    ):
        raise SmiError(f"{shard.path}: column '{text_field}' is {schema.field(text_field).type}, not a string column")
    row = 0
    try:
        for batch in parquet.iter_batches(columns=[text_field], batch_size=8192):
            for text in batch.column(0).to_pylist():
                row += 1
                if text is None:
                    problem = f"field '{text_field}' is null"
                else:
                    problem = None if check_text is None else check_text(text)
                if problem is not None:
                    if skipped is None:
                        raise SmiError(f"{shard.path}: row {row}: {problem}")
                    skipped.add(f"{shard.path}:row {row}", problem)
                    continue
                yield text
    except (pa.ArrowException, OSError) as error:
        raise SmiError(f"{shard.path}: row {row + 1}: cannot read parquet data ({error})") from None


def read_documents(
    shard: Shard,
    text_field: str = "text",
    skipped: SkipLog | None = None,
    check_text: Callable[[str], str | None] | None = None,
) -> Iterator[str]:
    """The texts of one shard, in file order.

    Without ``skipped`` the first bad line raises :class:`SmiError` naming file and
    line; with a :class:`SkipLog`, bad lines are recorded there and left out.
    ``check_text``, when given, is asked about every text: one for which it returns
    a problem (a short reason, such as ``"field 'text' is empty"``) makes its line bad.
    """
    if corpus_format(shard.path) == ".parquet":
        return _parquet_documents(shard, text_field, skipped, check_text)
    return _jsonl_documents(shard, text_field, skipped, check_text)


def read_file_documents(
    path: Path | str,
    text_field: str = "text",
    skipped: SkipLog | None = None,
    check_text: Callable[[str], str | None] | None = None,
) -> Iterator[str]:
    """The texts of one whole corpus file, in file order, read by :func:`read_documents`'s rules.

    A file whose name ends in none of :data:`CORPUS_SUFFIXES` is read as JSON lines.

    Parameters
    ----------
    path : Path or str
        The corpus file.
    text_field : str
        The field (or parquet column) holding the text.
    skipped : SkipLog or None
        Receives the bad lines, which are then left out; None to raise at the first.
    check_text : callable or None
        Returns the problem of a text that must not be read (its line is then bad), or None.

    Returns
    -------
    Iterator of str
        The texts.

    Raises
    ------
    SmiError
        When the file is missing (at once), or, while reading, a line is bad and ``skipped`` is None.
    """
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: file not found")
    try:
        stat = os.stat(path)
    except OSError as error:  # pragma: no cover - a file that vanished or became unreadable since is_file
        raise SmiError(f"{path}: cannot read ({error.strerror})") from None
    return read_documents(Shard.of_file(path, stat), text_field, skipped, check_text)
