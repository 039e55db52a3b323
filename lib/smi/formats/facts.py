"""The facts format (idx, subj, rel, obj): :class:`Facts`, its checks and its two readers."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smi.errors import SmiError
from smi.hashing import json_sha256
from smi.records import FACT_FIELDS, read_json, require_records

if TYPE_CHECKING:
    import pandas as pd

from smi.formats.rows import NUL, TABLE_SUFFIXES, Rows, Where, _read_rows, _rows, shown

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Facts:
    """The facts as plain columns, in file order (no pandas needed)."""

    idx: list
    subj: list
    rel: list
    obj: list

    def __len__(self) -> int:
        return len(self.idx)

    @property
    def checked(self) -> bool:
        """Whether :func:`check_facts` has passed these facts (as every reader does)."""
        return self.__dict__.get("_checked", False)

    def columns(self) -> dict[str, list]:
        """The columns by name, in :data:`FACT_FIELDS` order."""
        return {name: getattr(self, name) for name in FACT_FIELDS}

    def is_plain(self) -> bool:
        """Whether every value is a str or an int (so the csv and json modules write it as pandas would)."""
        return all(set(map(type, column)) <= {str, int} for column in self.columns().values())

    @classmethod
    def from_records(cls, records: list[dict]) -> Facts:
        """The fact fields of JSON records (each already known to hold them)."""
        return cls(*([record[name] for record in records] for name in FACT_FIELDS))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Facts:
        """The fact columns of a DataFrame, with missing values (NaN, NA) as None."""
        return cls(*(frame[name].astype(object).where(frame[name].notna(), None).tolist() for name in FACT_FIELDS))

    def frame(self) -> pd.DataFrame:
        """The facts as a DataFrame with columns idx, subj, rel, obj."""
        import pandas as pd

        return pd.DataFrame(self.columns())

    def sha256(self) -> str:
        """SHA-256 of the columns idx, subj, rel, obj, in order (recorded in ``smi count``'s metadata)."""
        return json_sha256(list(self.columns().values()))


def as_facts(triples: Facts | pd.DataFrame) -> Facts:
    """``triples`` as :class:`Facts` (a DataFrame's columns idx, subj, rel, obj are taken as they are)."""
    return triples if isinstance(triples, Facts) else Facts.from_frame(triples)


def _is_missing(value: object) -> bool:
    """An idx that is absent: None, NaN or blank."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def idx_key(value: object) -> object:
    """The key by which two idx values are the same fact: ``1``, ``1.0``, ``"1"`` and ``" 01"`` are all ``1``.

    An integer (Python or NumPy), an integral float and a string of decimal digits
    (with an optional sign) become that integer; any other string stays itself. A CSV
    reader turns ``01`` into 1 anyway, so the key makes every reader agree.
    Raises :class:`TypeError` for anything else (a list, a dict, a boolean).
    """
    if type(value) is int:  # the common case first: no ABC check
        return value
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, str):
        text = value.strip()
        return int(text) if _INTEGER_TEXT.fullmatch(text) else value
    raise TypeError(value)


def check_idx(values: list, where: Where) -> None:
    """Require an idx in every row, of a usable type, and no idx twice (compared by :func:`idx_key`)."""
    if set(map(type, values)) == {int} and len(set(values)) == len(values):  # the common case, at C speed
        return
    first_row: dict = {}
    for row, idx in enumerate(values):
        if _is_missing(idx):
            raise SmiError(f"{where(row)}: empty idx")
        try:
            key = idx_key(idx)
        except TypeError:
            raise SmiError(f"{where(row)}: idx must be an integer or a string, got {idx!r}") from None
        earlier = first_row.setdefault(key, row)
        if earlier != row:
            first = shown(values[earlier])
            same = "" if first == shown(idx) else f" (the same idx as {first} before it)"
            raise SmiError(f"{where(row)}: duplicate idx {shown(idx)}{same}")


def first_unencodable(values: Iterable) -> int | None:
    """Position of the first string that cannot be encoded as UTF-8 (a lone surrogate), or None."""
    values = list(values)
    texts = values if set(map(type, values)) == {str} else [value for value in values if isinstance(value, str)]
    try:
        "".join(texts).encode("utf-8")
        return None
    except UnicodeEncodeError:
        pass
    for row, value in enumerate(values):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return row
    return None  # pragma: no cover - the joined text failed, so one value does


def check_names(facts: Facts, where: Where) -> None:
    """Require non-empty subject, relation and object strings without NUL that UTF-8 can encode."""
    for column in ("subj", "obj", "rel"):
        values = getattr(facts, column)
        for row, value in enumerate(values):
            if not isinstance(value, str) or not value.strip() or NUL in value:
                raise SmiError(
                    f"{where(row)} (idx {shown(facts.idx[row])}): field '{column}' must be a non-empty string "
                    f"without NUL characters, got {value!r}"
                )
        row = first_unencodable(values)
        if row is not None:
            raise SmiError(
                f"{where(row)} (idx {shown(facts.idx[row])}): field '{column}' is not valid Unicode "
                f"(a lone surrogate, which cannot be written as UTF-8): {values[row]!r}"
            )
    row = first_unencodable(facts.idx)
    if row is not None:
        raise SmiError(f"{where(row)}: idx {facts.idx[row]!r} is not valid Unicode (a lone surrogate)")


def check_facts(facts: Facts, where: Where | Path) -> Facts:
    """The checks of every facts file: :func:`check_idx` and :func:`check_names`; returns ``facts``."""
    where = _rows(where)
    check_idx(facts.idx, where)
    check_names(facts, where)
    object.__setattr__(facts, "_checked", True)  # frozen: marked once, so later users need not check again
    return facts


def read_facts(path: Path) -> Facts:
    """Facts (idx, subj, rel, obj) from a JSON list like the release's, or a CSV / Parquet table.

    The JSON list is read without pandas. Checks: :func:`check_facts`.
    """
    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: facts file not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        facts, where = Facts.from_records(require_records(read_json(path), FACT_FIELDS, path)), Rows(path)
    elif suffix in TABLE_SUFFIXES:
        table, where = _read_rows(path, FACT_FIELDS, "facts file")
        facts = Facts.from_frame(table)
    else:
        raise SmiError(f"{path}: facts must be .json, .csv or .parquet")
    return check_facts(facts, where)


def load_facts(path: Path) -> pd.DataFrame:
    """:func:`read_facts` as a DataFrame keeping every column of the file (qus, pid, uuid, ...)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise SmiError(f"{path}: facts file not found")
    if path.suffix.lower() == ".json":
        records = require_records(read_json(path), FACT_FIELDS, path)
        check_facts(Facts.from_records(records), Rows(path))
        return pd.DataFrame.from_records(records)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise SmiError(f"{path}: facts must be .json, .csv or .parquet")
    table, where = _read_rows(path, FACT_FIELDS, "facts file")
    check_facts(Facts.from_frame(table), where)
    return table
