"""The corpus counts format (``time_*`` document counts) and the per-model outputs that add ``acc``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from smi.errors import SmiError, check_scalar
from smi.records import COUNT_FIELDS, FACT_FIELDS

if TYPE_CHECKING:
    import pandas as pd

from smi.formats.facts import Facts, check_facts
from smi.formats.rows import Where, _cell, _first, _read_rows, _rows

#: The largest count of documents accepted: exact as a float and as int64 (2**53).
MAX_COUNT = 2**53
#: The counts a prediction or a fit needs; the other ``time_*`` fields follow from them.
CORE_COUNT_FIELDS = ("time_seqs", "time_subj", "time_obj", "time_s1j1")


def _integer_counts(frame: pd.DataFrame, fields: list[str], where: Where) -> None:
    """Require each of ``fields`` to hold finite integers from 0 to :data:`MAX_COUNT`; make them int64 (in place).

    The range is checked on the values as read (before the cast), so that a huge count is named as it was
    written, never as the negative number an int64 overflow would make of it."""
    import numpy as np
    import pandas as pd

    for field in fields:
        raw = frame[field]
        numeric = pd.to_numeric(raw, errors="coerce")
        values = numeric.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values) | (values < 0) | (values != np.floor(values)) | (values > MAX_COUNT)
        if raw.dtype == bool or raw.dtype == object:
            bad |= np.fromiter((isinstance(value, bool) for value in raw), dtype=bool, count=len(raw))
        if bad.any():
            row = _first(bad)
            limit = f" (at most {MAX_COUNT})" if values[row] > MAX_COUNT else ""
            raise SmiError(
                f"{where(row)}: field '{field}' must be a non-negative integer count, got {_cell(raw.iloc[row])}{limit}"
            )
        frame[field] = numeric.astype("int64")


def check_count_columns(frame: pd.DataFrame, where: Where | Path) -> pd.DataFrame:
    """Check the ``time_*`` columns present in ``frame`` and make them int64 (in place; returns ``frame``).

    Each must be a finite non-negative integer; ``time_seqs`` positive and the same
    in every row; ``time_s1j1 <= min(time_subj, time_obj)`` and
    ``max(time_subj, time_obj) <= time_seqs``. These relations of the four counts
    that everything is computed from are checked before the other cells of the 2×2
    table, so that a message names the count at fault rather than a cell derived from it.
    """
    import numpy as np

    where = _rows(where)
    core = [field for field in CORE_COUNT_FIELDS if field in frame.columns]
    _integer_counts(frame, core, where)
    if "time_seqs" in core:
        seqs = frame["time_seqs"]
        if (seqs <= 0).any():
            raise SmiError(f"{where(_first(seqs <= 0))}: field 'time_seqs' (documents in the corpus) must be positive")
        if (seqs != seqs.iloc[0]).any():
            row = _first(seqs != seqs.iloc[0])
            raise SmiError(
                f"{where(row)}: time_seqs is {seqs.iloc[row]}, but {seqs.iloc[0]} in the first row: "
                "a counts file describes one corpus"
            )
        for field in ("time_subj", "time_obj"):
            if field in core:
                bad = frame[field] > seqs
                if bad.any():
                    row = _first(bad)
                    raise SmiError(
                        f"{where(row)}: {field} ({frame[field].iloc[row]}) exceeds time_seqs "
                        f"({seqs.iloc[row]}): more documents hold a name than the corpus has"
                    )
    if {"time_subj", "time_obj", "time_s1j1"} <= set(core):
        least = np.minimum(frame["time_subj"], frame["time_obj"])
        bad = frame["time_s1j1"] > least
        if bad.any():
            row = _first(bad)
            raise SmiError(
                f"{where(row)}: time_s1j1 ({frame['time_s1j1'].iloc[row]}) exceeds min(time_subj, time_obj) "
                f"({least.iloc[row]}): more documents hold both names than hold one"
            )
    _integer_counts(frame, [field for field in COUNT_FIELDS if field in frame.columns and field not in core], where)
    return frame


def require_cooccurrence(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Refuse counts in which no subject ever meets its object (nothing for a fit to learn from)."""
    if (frame["time_s1j1"] == 0).all():
        raise SmiError(f"{path}: all co-occurrence counts (time_s1j1) are zero; nothing to fit")
    return frame


def check_document_count(value: float) -> int:
    """The corpus's number of documents (``corpus_docs``): a finite, positive whole number."""
    return check_scalar(value, "corpus_docs", "integer", minimum=1)


def read_counts(
    path: Path, corpus_docs: float | None = None, required_counts: Iterable[str] = COUNT_FIELDS
) -> pd.DataFrame:
    """Per-fact document counts over one corpus: idx, subj, rel, obj and the ``time_*`` fields.

    ``path`` is a JSON list (the release's ``merge.json``, ``smi count``'s .json), JSON
    lines, CSV or Parquet. ``required_counts`` are the count fields every row must
    hold; ``corpus_docs`` gives ``time_seqs`` (the corpus's documents) for files without
    it. Checks: :func:`check_facts` and :func:`check_count_columns`.
    """
    needed = list(FACT_FIELDS) + [c for c in required_counts if c != "time_seqs" or corpus_docs is None]
    frame, where = _read_rows(path, needed, "counts file")
    if corpus_docs is not None:
        frame["time_seqs"] = check_document_count(corpus_docs)
    check_facts(Facts.from_frame(frame), where)
    return check_count_columns(frame, where).reset_index(drop=True)


def check_accuracy(frame: pd.DataFrame, where: Where | Path) -> pd.DataFrame:
    """Require ``acc`` to be a finite number in [0, 1] in every row; make it float (in place)."""
    import numpy as np
    import pandas as pd

    where = _rows(where)
    raw = frame["acc"]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if raw.dtype == object:
        bad |= np.fromiter((isinstance(value, bool) for value in raw), dtype=bool, count=len(raw))
    if bad.any():
        row = _first(bad)
        raise SmiError(f"{where(row)}: field 'acc' must be in [0, 1], got {_cell(raw.iloc[row])}")
    frame["acc"] = values
    return frame


def read_model_output(path: Path, require_counts: bool = True) -> pd.DataFrame:
    """One model's per-fact accuracy: idx, subj, rel, obj, acc and (``require_counts``) the ``time_*`` counts.

    The release's ``infer/merge_outputs/<model>.json`` or a ``smi probe`` output.
    Checks: :func:`check_facts` (so no idx twice), :func:`check_count_columns` on the
    counts present, :func:`check_accuracy`.
    """
    required = list(FACT_FIELDS) + (list(COUNT_FIELDS) if require_counts else []) + ["acc"]
    frame, where = _read_rows(path, required, "model output")
    check_facts(Facts.from_frame(frame), where)
    check_count_columns(frame, where)
    return check_accuracy(frame, where)
