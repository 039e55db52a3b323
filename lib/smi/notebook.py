"""Checks and defaults for the notebooks' ``parameters`` cells.

Papermill passes a ``-p name value`` option as a string unless the value parses
as a number or a boolean, so a list given on the command line arrives as the
text ``'["pythia-12b"]'``. The helpers here accept a list, a JSON list written as
text, or one comma-separated string, and stop with one line naming the parameter
and its valid values when a value is wrong.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, Sequence

from smi.errors import SmiError


class ParameterError(SmiError):
    """A notebook parameter with a wrong value; the message names the parameter."""


def _valid_list(valid: Iterable[str]) -> str:
    return ", ".join(str(value) for value in valid)


def list_parameter(value: object, name: str, valid: Sequence[str] | None = None) -> list[str] | None:
    """``value`` as a list of names (None stays None, meaning "all").

    Accepts a list or tuple, a JSON list as text (``'["a", "b"]'``), or a string
    of comma-separated names (``"a,b"``). With ``valid``, every name must be one
    of them; otherwise :class:`ParameterError` names the parameter, the wrong
    name and the valid ones.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ParameterError(f"parameter '{name}': not a JSON list ({error.msg}): {text!r}") from None
        elif text.lower() in ("", "none", "null"):
            return None
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ParameterError(f"parameter '{name}': expected a list of names, got {value!r}")
    if not value:
        raise ParameterError(f"parameter '{name}': the list is empty; use None for all")
    if valid is not None:
        unknown = [item for item in value if item not in set(valid)]
        if unknown:
            raise ParameterError(f"parameter '{name}': unknown value '{unknown[0]}'; valid values: {_valid_list(valid)}")
    return list(value)


def choice_parameter(value: object, name: str, valid: Sequence[str]) -> str:
    """``value`` if it is one of ``valid``; otherwise :class:`ParameterError` listing them."""
    if value not in set(valid):
        raise ParameterError(f"parameter '{name}': unknown value {value!r}; valid values: {_valid_list(valid)}")
    return str(value)


def number_parameter(value: object, name: str, minimum: float | None = None, integer: bool = False) -> float | int:
    """``value`` as a finite number (an int with ``integer``), at least ``minimum`` when given."""
    if isinstance(value, bool):
        raise ParameterError(f"parameter '{name}': expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter '{name}': expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ParameterError(f"parameter '{name}': expected a finite number, got {value!r}")
    if integer:
        if number != int(number):
            raise ParameterError(f"parameter '{name}': expected a whole number, got {value!r}")
        number = int(number)
    if minimum is not None and number < minimum:
        raise ParameterError(f"parameter '{name}': must be at least {minimum}, got {value!r}")
    return number


def bool_parameter(value: object, name: str) -> bool:
    """``value`` as a boolean; the strings true/false/1/0/yes/no are accepted too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ParameterError(f"parameter '{name}': expected true or false, got {value!r}")


def path_parameter(value: object, default: Path) -> Path:
    """``value`` as a path, or ``default`` (e.g. :func:`smi.data.release_dir`) when it is None or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Path(default)
    return Path(str(value))
