"""The models table (name, series, parameters, corpus) and the checks of a parameter or token count."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from smi.errors import ParameterValueError, SmiError

if TYPE_CHECKING:
    import pandas as pd

from smi.formats.rows import _first

#: Columns every models table must have (``hub_id`` is optional).
MODEL_FIELDS = ("name", "series", "parameters", "corpus")
#: The smallest parameter count accepted: anything below is taken for a count in billions or millions
#: (``12`` for 12B, ``1300`` for 1.3B in millions). It is 10,000 rather than a million because the
#: knowledge lab (:mod:`smi.lab`) really trains models of 50k-1M parameters.
MIN_PARAMETERS = 10_000
#: The largest parameter count accepted (a thousand times the largest model of the release, exact as a float).
MAX_PARAMETERS = 10**15
BILLIONS_HINT = "looks like billions; give the raw count, e.g. 12000000000 for 12B"


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
