"""Shard results saved in a work folder under a key of everything that determines them, and the folder's upkeep."""

from __future__ import annotations

import functools
import io
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smi import corpus_io, matchers
from smi.errors import SmiError, check_scalar
from smi.files import atomic_output, temporary_path
from smi.hashing import code_sha256
from smi.matchers import (
    ENGINES,
)

if TYPE_CHECKING:  # pandas is imported only where a function needs it, to keep `smi count` quick to start
    pass
from smi.counting.scan import DEFAULT_BLOCK_CHARS, Counts, FactStrings, count_texts, note
from smi.hashing import json_sha256


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
        check_scalar(self.block_chars, "block_chars", "integer", minimum=1)

    def key(self) -> dict:
        """The settings that change counts (the block size and the engine do not)."""
        return {"match": self.match, "text_field": self.text_field, "skip_bad_lines": self.skip_bad_lines}


#: Version of the layout and meaning of a saved shard result: raise it when either changes.
#: Any other change of the counting code changes :func:`counting_code_version` through its source hash.
SHARD_FORMAT = 2
#: What :func:`smi.files.atomic_output` leaves of a shard result whose writer was killed.
SHARD_TEMPORARY = re.compile(r"\.(shard-[0-9a-f]{32}\.npz|hyperscan-[0-9a-f]{32}\.hsdb)\.[A-Za-z0-9_]+\.tmp")
_SHARD_ARRAYS = ("key", "n_docs", "n_bytes", "name_docs", "joint_docs", "skipped_count", "skipped_examples")


@functools.cache
def counting_code_version() -> str:
    """The version of the code that computes shard results: :data:`SHARD_FORMAT` and a hash of its code.

    The hash (:func:`smi.hashing.code_sha256`) covers every module of this package,
    :mod:`smi.matchers` (the engines), :mod:`smi.corpus_io` (the reader), what they import,
    and numpy's version, so a shard result computed by other code is never reused.
    """
    package = [f"{__package__}.{path.stem}" for path in sorted(Path(__file__).parent.glob("*.py"))]
    modules = [name.removesuffix(".__init__") for name in package] + [matchers.__name__, corpus_io.__name__]
    return f"{SHARD_FORMAT}.{code_sha256(modules, extra=f'numpy {np.__version__}')[:16]}"


def shard_key(shard: corpus_io.Shard, names_fingerprint: str, settings: CountSettings) -> str:
    """SHA-256 (hex) of everything that determines a shard's partial counts.

    That is the counting code's version (:func:`counting_code_version`), the names searched for
    (:meth:`FactStrings.fingerprint`), the settings that change counts, and the
    shard: its file's path, size, times and inode, and its byte range
    (:meth:`smi.corpus_io.Shard.identity`).
    """
    parts = {
        "code_version": counting_code_version(),
        "names": names_fingerprint,
        "settings": settings.key(),
        "shard": shard.identity(),
    }
    return json_sha256(parts)


def shard_result_path(work_dir: Path, key: str) -> Path:
    """Where the partial counts of the shard with this :func:`shard_key` are saved: ``shard-<32 hex digits>.npz``."""
    return Path(work_dir) / f"shard-{key[:32]}.npz"


@dataclass
class ShardResult:
    """A shard's counts, the lines it skipped, and the :func:`counting_code_version` that counted it."""

    counts: Counts
    skipped: corpus_io.SkipLog = field(default_factory=corpus_io.SkipLog)
    seconds: float = 0.0
    code_version: str = ""


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
    return ShardResult(counts, skipped or corpus_io.SkipLog(), time.perf_counter() - started, counting_code_version())


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
    return ShardResult(
        counts, corpus_io.SkipLog(int(arrays["skipped_count"]), examples), code_version=counting_code_version()
    )


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
    tells :func:`remove_orphaned_shard_temporaries` whether another run is writing there.
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


def remove_orphaned_shard_temporaries(work_dir: Path) -> int:
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
    remove_orphaned_shard_temporaries(work_dir)
    if remove_results:
        try:
            work_dir.rmdir()
        except OSError:
            if work_dir.is_dir():
                note(f"{work_dir} kept: it holds files this run did not make")
