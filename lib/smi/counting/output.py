"""The output: checks before counting, one run at a time per output, the table and its metadata written together."""

from __future__ import annotations

import csv
import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from smi import files, locks
from smi.errors import SmiError
from smi.files import atomic_outputs, check_writable
from smi.formats import Facts
from smi.hashing import file_sha256

if TYPE_CHECKING:  # pandas is imported only where a function needs it, to keep `smi count` quick to start
    pass
from smi.counting.runner import CountRun
from smi.counting.shards import check_free_space

#: The output formats, by file ending.
OUTPUT_SUFFIXES = (".csv", ".parquet", ".json")


def check_output_path(out: Path) -> Path:
    """Require an output ending in .csv, .parquet or .json (checked before any counting)."""
    out = Path(out)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise SmiError(f"{out}: output must end in {', '.join(OUTPUT_SUFFIXES)}")
    return out


def metadata_path(out: Path) -> Path:
    """The metadata written next to an output: ``counts.csv`` → ``counts.csv.meta.json``."""
    return Path(out).with_name(Path(out).name + ".meta.json")


def default_work_dir(out: Path) -> Path:
    """The work folder used without ``--work-dir``: ``counts.csv`` → ``counts.csv.parts``."""
    return Path(out).with_name(Path(out).name + ".parts")


def estimated_output_bytes(facts: Facts) -> int:
    """A low estimate of a counts table's size: the facts' characters and about 40 bytes of counts per fact.

    Characters, not UTF-8 bytes: never more, and counted at C speed (no encoding).
    """
    text = sum(sum(map(len, map(str, column))) for column in facts.columns().values())
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


def count_lock(out: Path) -> Iterator[Path | None]:
    """Hold ``OUT.lock`` while counting into ``out`` (:func:`smi.locks.output_lock` of ``smi count``)."""
    return locks.output_lock(out, "smi count")


def remove_orphaned_output_temporaries(out: Path) -> None:
    """Remove temporaries of ``out`` and its metadata that a killed run left (call holding :func:`output_lock`)."""
    for path in (Path(out), metadata_path(out)):
        files.remove_orphaned_temporaries(path, "smi count")


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
