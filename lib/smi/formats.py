"""The one reader of each file format the project reads, with the checks the format needs.

==================  ================================================  ==========================
format              files                                             reader
==================  ================================================  ==========================
facts               the release's ``search/pararel_15classes.json``;  :func:`read_facts` (plain
                    ``smi triples build`` output (.csv, .parquet)      columns), :func:`load_facts`
corpus counts       the release's ``search/<corpus>/merge.json``;     :func:`read_counts`
                    ``smi count`` output (.json, .csv, .parquet);
                    JSON lines
per-model outputs   the release's ``infer/merge_outputs/<m>.json``;   :func:`read_model_output`
                    ``smi probe`` output
models table        ``smi/resources/models.csv`` or any such CSV      :func:`load_models`
==================  ================================================  ==========================

Every reader checks its file once, on the way in, and stops at the first
problem with a one-line :class:`~smi.errors.SmiError` naming the file and the
record (JSON list, from 0), line (JSON lines and CSV, the header being line 1)
or row (Parquet, from 1) and the field:

* facts: an idx in every row, unique, where an integer and a string of its
  digits are the same idx (``1``, ``"1"`` and ``"01"`` are one key, see
  :func:`idx_key`); subject, relation and object non-empty strings, without NUL
  characters, that can be written as UTF-8 (a lone surrogate, which JSON's
  ``"\\ud800"`` escape can produce, cannot);
* counts: every ``time_*`` field a finite, non-negative integer, with
  :math:`n_{so} \\le \\min(n_s, n_o)` and :math:`\\max(n_s, n_o) \\le N`
  (``time_s1j1 <= min(time_subj, time_obj)``, ``max(time_subj, time_obj) <= time_seqs``),
  :math:`N > 0` and one :math:`N` per file (a counts file describes one corpus);
  the facts' checks too, so no idx twice;
* per-model outputs: the facts' and the counts' checks, and an accuracy ``acc``
  that is a finite number in [0, 1];
* models table: the columns name, series, parameters, corpus; at least one
  model; unique, non-empty names; a parameter count that is a raw count, finite
  and at least :data:`MIN_PARAMETERS` (:func:`check_parameters`).

The module imports pandas only inside the functions that need it, so that
``smi count`` reads the release's JSON facts without loading pandas.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from smi.errors import ParameterValueError, SmiError, check_scalar
from smi.hashing import json_sha256
from smi.records import COUNT_FIELDS, FACT_FIELDS, read_json, read_json_lines, require_records

if TYPE_CHECKING:
    import pandas as pd

#: Columns every models table must have (``hub_id`` is optional).
MODEL_FIELDS = ("name", "series", "parameters", "corpus")
#: The smallest parameter count accepted: anything below is taken for a count in billions or millions
#: (``12`` for 12B, ``1300`` for 1.3B in millions). It is 10,000 rather than a million because the
#: knowledge lab (:mod:`smi.lab`) really trains models of 50k-1M parameters.
MIN_PARAMETERS = 10_000
#: The largest parameter count accepted (a thousand times the largest model of the release, exact as a float).
MAX_PARAMETERS = 10**15
#: The largest count of documents accepted: exact as a float and as int64 (2**53).
MAX_COUNT = 2**53
#: The counts a prediction or a fit needs; the other ``time_*`` fields follow from them.
CORE_COUNT_FIELDS = ("time_seqs", "time_subj", "time_obj", "time_s1j1")
#: What a name may not contain (``smi count`` joins documents with it).
NUL = "\x00"
TABLE_SUFFIXES = (".csv", ".parquet")
ROW_SUFFIXES = (".json", ".jsonl", *TABLE_SUFFIXES)
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
BILLIONS_HINT = "looks like billions; give the raw count, e.g. 12000000000 for 12B"

Where = Callable[[int], str]


# ---------------------------------------------------------------------------
# naming rows in messages


@dataclass(frozen=True)
class Rows:
    """Names the rows of one file in messages: ``<path>: <word> <number>``.

    ``numbers`` gives each row's number explicitly (the lines of a JSON-lines
    file, where blank lines are skipped); otherwise row ``i`` is ``first + i``.
    """

    path: Path
    word: str = "record"
    first: int = 0
    numbers: tuple[int, ...] | None = None

    def label(self, row: int) -> str:
        """``<word> <number>`` of a row, without the path."""
        return f"{self.word} {self.numbers[row] if self.numbers is not None else row + self.first}"

    def __call__(self, row: int) -> str:
        return f"{self.path}: {self.label(row)}"


def _rows(where: Where | Path | str) -> Where:
    """``where`` as a row namer: a path names JSON-list records (from 0)."""
    return where if callable(where) else Rows(Path(where))


def _cell(value: object) -> str:
    """A cell of a table as a message shows it (a NumPy scalar as the Python value it holds)."""
    return repr(value.item() if hasattr(value, "item") else value)


def shown(value: object) -> str:
    """A value as a message shows it: an int as written, a string quoted (lone surrogates escaped)."""
    value = value.item() if hasattr(value, "item") else value  # a NumPy scalar as the Python value it holds
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    return repr(value)


# ---------------------------------------------------------------------------
# facts


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


def _read_table(path: Path) -> tuple[pd.DataFrame, int, str]:
    """A CSV or Parquet table, with the number and word naming its first row in messages.

    CSV cells are read as written: a subject "NA" or "None" stays text, an empty cell
    is an empty string (which the checks refuse where a value is needed).
    """
    import pandas as pd

    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            table = pd.read_csv(path, dtype={"subj": str, "obj": str, "rel": str}, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
            raise SmiError(f"{path}: cannot read CSV ({str(error).splitlines()[0]})") from None
        return table, 2, "line"
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a bad file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SmiError(f"{path}: cannot read parquet ({reason})") from None
    return table, 1, "row"


def _read_rows(path: Path, required: Iterable[str], what: str) -> tuple[pd.DataFrame, Rows]:
    """A JSON list, JSON-lines, CSV or Parquet file as a DataFrame whose rows all hold ``required``."""
    import pandas as pd

    path = Path(path)
    required = list(required)
    if not path.is_file():
        raise SmiError(f"{path}: {what} not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        records = require_records(read_json(path), required, path)
        return pd.DataFrame.from_records(records), Rows(path, "record", 0)
    if suffix == ".jsonl":
        records, line_numbers = read_json_lines(path)
        if not records:
            raise SmiError(f"{path}: no records")
        for record, number in zip(records, line_numbers):
            missing = [field for field in required if record.get(field) is None]
            if missing:
                raise SmiError(f"{path}: line {number} (idx {shown(record.get('idx'))}): missing field '{missing[0]}'")
        return pd.DataFrame.from_records(records), Rows(path, "line", numbers=tuple(line_numbers))
    if suffix in TABLE_SUFFIXES:
        frame, first, word = _read_table(path)
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise SmiError(f"{path}: missing column '{missing[0]}' (needed: {', '.join(required)})")
        if frame.empty:
            raise SmiError(f"{path}: no rows under the header")
        return frame, Rows(path, word, first)
    raise SmiError(f"{path}: a {what} must end in {', '.join(ROW_SUFFIXES)}")


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


# ---------------------------------------------------------------------------
# corpus counts


def _first(mask) -> int:
    """Position of the first True of a boolean array or Series."""
    import numpy as np

    return int(np.flatnonzero(np.asarray(mask))[0])


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


def check_counts(frame: pd.DataFrame, where: Where | Path) -> pd.DataFrame:
    """The checks of every counts file: a unique idx (when the frame has one) and :func:`check_count_columns`."""
    where = _rows(where)
    if "idx" in frame.columns:
        check_idx(frame["idx"].astype(object).where(frame["idx"].notna(), None).tolist(), where)
    return check_count_columns(frame, where)


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


# ---------------------------------------------------------------------------
# per-model outputs


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


# ---------------------------------------------------------------------------
# models table


def parameter_problem(value: object) -> str | None:
    """Why ``value`` is not a usable parameter count (None when it is one)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "a parameter count must be a number"
    if not math.isfinite(number):
        return "a parameter count must be a finite number"
    if 0 < number < MIN_PARAMETERS:
        return f"{BILLIONS_HINT} (a raw count is at least {MIN_PARAMETERS:,})"
    if number < MIN_PARAMETERS:
        return f"a parameter count must be a raw count of at least {MIN_PARAMETERS:,}"
    if number > MAX_PARAMETERS:
        return f"a parameter count must be at most {MAX_PARAMETERS:,}"
    return None


def _checked_count(value: float, parameter: str, what: str | None, problem: str | None) -> float:
    """``value`` as a float, or a one-line error naming the value and ``problem``.

    The error names ``what`` when given (a :class:`SmiError`), else the library
    ``parameter`` (a :class:`ParameterValueError`, which the command line names by its flag).
    """
    if problem:
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if what is None:
            raise ParameterValueError(parameter, f"{text}: {problem}")
        raise SmiError(f"{what} {text}: {problem}")
    return float(value)


def check_parameters(value: float, what: str | None = None) -> float:
    """A model's parameter count, refused unless finite and at least :data:`MIN_PARAMETERS`.

    The error names ``what`` (e.g. a file and column), or else the parameter ``parameters``.
    """
    return _checked_count(value, "parameters", what, parameter_problem(value))


def load_models(path: Path | None = None) -> pd.DataFrame:
    """The models table: name, hub_id, series, parameters (raw count, int64), corpus, tokens (training
    tokens, float, NaN where the optional column is empty or absent) and any other columns (e.g. tokens_source).

    ``path`` is a CSV with at least the columns name, series, parameters, corpus;
    by default the packaged table of the paper's 24 models. Refused with one line:
    an unreadable or empty table, a missing column, an empty or repeated name, an
    empty series or corpus, a parameter count that :func:`parameter_problem` refuses, a ``tokens`` cell
    that :func:`token_problem` refuses.
    """
    import pandas as pd

    options = dict(
        dtype={"name": str, "series": str, "corpus": str, "tokens": str},
        keep_default_na=False,
        na_values={"hub_id": [""]},
    )
    try:
        if path is None:
            label = "smi/resources/models.csv"
            with resources.files("smi.resources").joinpath("models.csv").open() as handle:
                table = pd.read_csv(handle, **options)
        else:
            label = str(path)
            if not Path(path).is_file():
                raise SmiError(f"{path}: models table not found")
            table = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError:
        header = ",".join(MODEL_FIELDS)
        raise SmiError(f"{label}: empty models table (expected the header {header} and one row per model)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise SmiError(f"{label}: cannot read CSV ({str(error).splitlines()[0]})") from None
    missing = [field for field in MODEL_FIELDS if field not in table.columns]
    if missing:
        raise SmiError(f"{label}: missing column '{missing[0]}'")
    if table.empty:
        raise SmiError(f"{label}: empty models table: no rows under the header")
    for field in ("name", "series", "corpus"):
        blank = table[field].astype(str).str.strip() == ""
        if blank.any():
            raise SmiError(f"{label}: line {_first(blank) + 2}: empty field '{field}'")
    repeated = table["name"].duplicated()
    if repeated.any():
        row = _first(repeated)
        first = _first(table["name"] == table["name"].iloc[row])
        name = table["name"].iloc[row]
        raise SmiError(f"{label}: line {row + 2}: model '{name}' is listed twice (also line {first + 2})")
    params = pd.to_numeric(table["parameters"], errors="coerce")
    for row, (name, raw, number) in enumerate(zip(table["name"], table["parameters"], params)):
        problem = parameter_problem(number) if not pd.isna(number) else "a parameter count must be a number"
        if problem:
            raise SmiError(f"{label}: line {row + 2}: model '{name}' has size {raw}: {problem}")
    table["parameters"] = params.round().astype("int64")
    table["tokens"] = _training_tokens(table, label)
    return table


def token_problem(value: object) -> str | None:
    """Why ``value`` is not a usable count of training tokens (None when it is one)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "a token count must be a number"
    if not math.isfinite(number) or number <= 0:
        return "a token count must be a finite number above 0"
    return None


def check_tokens(value: float, what: str | None = None) -> float:
    """A model's training tokens, refused unless finite and above 0 (naming ``what``, or else ``tokens``)."""
    return _checked_count(value, "tokens", what, token_problem(value))


def _training_tokens(table: pd.DataFrame, label: str) -> pd.Series:
    """The optional ``tokens`` column as floats (NaN where empty or absent); a cell that is not a positive
    finite number is refused with its line."""
    import pandas as pd

    if "tokens" not in table.columns:
        return pd.Series(float("nan"), index=table.index)
    text = table["tokens"].astype(str).str.strip()
    empty = text.isin(["", "nan", "None"])
    for row, (name, raw, blank) in enumerate(zip(table["name"], table["tokens"], empty)):
        problem = None if blank else token_problem(raw)
        if problem:
            raise SmiError(f"{label}: line {row + 2}: model '{name}' has tokens {raw!r} in column 'tokens': {problem}")
    return pd.to_numeric(text.where(~empty), errors="coerce").astype(float)
