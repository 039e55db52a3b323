"""Input errors: the one exception type the command line reports as one line, and the checks that raise it."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

Choice = TypeVar("Choice", bound=Hashable)


class SmiError(ValueError):
    """A problem with the user's input or data, reported as one line and exit code 2.

    The message must name the file, line or field at fault, so that a user can
    fix it without reading a traceback. It subclasses :class:`ValueError`, so
    library users can catch it as they catch any bad-value error.
    """


class ParameterValueError(SmiError):
    """A bad value of one named parameter of a library function.

    The message speaks of the parameter (``samples must be at least 1 (got 0)``);
    the command line, which knows its flags, says ``--samples`` instead
    (:func:`smi.cli.flag_message`).

    Parameters
    ----------
    parameter : str
        The parameter's name in the library, e.g. ``"max_new_tokens"``.
    problem : str
        What is wrong, starting with a verb: ``"must be at least 1 (got 0)"``.
    where : str or None
        A file or folder the problem concerns, put first as in every message.
    """

    def __init__(self, parameter: str, problem: str, where: object = None) -> None:
        self.parameter = parameter
        self.problem = problem
        self.where = where
        super().__init__(self.message(parameter))

    def message(self, name: str) -> str:
        """The one-line message with the parameter called ``name``."""
        prefix = f"{self.where}: " if self.where is not None else ""
        return f"{prefix}{name} {self.problem}"


def check_scalar(
    value: object,
    name: str,
    kind: str = "number",
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    where: object = None,
):
    """``value`` when it is a scalar of ``kind`` within its bounds; else a one-line :class:`ParameterValueError`.

    The one check of a numeric parameter in the package, in the manner of scikit-learn's
    ``check_scalar``: the library names the parameter (``threads must be at least 1 (got 0)``)
    and the command line names its flag instead (:func:`smi.cli.flag_message`).

    Parameters
    ----------
    value : object
        The value as given.
    name : str
        The parameter's name in the library.
    kind : {"number", "integer"}, default "number"
        ``"integer"``: a whole number (a Python or numpy integer, or a float with no fraction,
        e.g. 1e9); ``"number"``: any finite real number. Booleans are neither.
    minimum, maximum : float or None
        Inclusive bounds (None: unbounded).
    above, below : float or None
        Exclusive bounds (``above=0``: positive; ``below=1``: less than 1).
    where : object
        A file or folder the value belongs to, put first in the message.

    Returns
    -------
    int or float
        The value as ``int`` (``"integer"``) or ``float`` (``"number"``).

    Raises
    ------
    ParameterValueError
        ``{name} must be an integer (got 'x')``, ``{name} must be at least 1 (got 0)``,
        ``{name} must be from 10 to 10000 (got 5)``, ``{name} must be greater than 0 (got -1)``.
    """
    import math
    import numbers

    if kind not in ("number", "integer"):
        raise ValueError(f"kind must be 'number' or 'integer', not {kind!r}")
    real = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not real or (kind == "integer" and value != int(value)):
        wanted = "an integer" if kind == "integer" else "a finite number"
        raise ParameterValueError(name, f"must be {wanted} (got {value!r})", where)
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ParameterValueError(name, f"must be from {minimum:,} to {maximum:,} (got {value})", where)
    if minimum is not None and value < minimum:
        raise ParameterValueError(name, f"must be at least {minimum:,} (got {value})", where)
    if maximum is not None and value > maximum:
        raise ParameterValueError(name, f"must be at most {maximum:,} (got {value})", where)
    if above is not None and not value > above:
        raise ParameterValueError(name, f"must be greater than {above:,} (got {value})", where)
    if below is not None and not value < below:
        raise ParameterValueError(name, f"must be less than {below:,} (got {value})", where)
    return int(value) if kind == "integer" else float(value)


def check_one_of(value: Choice, valid: Iterable[Choice], what: str, plural: str | None = None) -> Choice:
    """``value`` when it is one of ``valid``; else a one-line :class:`SmiError` listing the valid ones.

    Parameters
    ----------
    value
        The value to check, e.g. a name given by the user.
    valid
        The accepted values, in the order the message lists them (a dict's keys when a dict is given).
    what
        What the value names, in the singular, e.g. ``"model"`` or ``"match rule"``.
    plural
        The plural used in the list of valid values; ``what + "s"`` when None.

    Returns
    -------
    object
        ``value`` itself, so a check can stand in an assignment.

    Raises
    ------
    SmiError
        ``unknown {what} {value!r}; valid {plural}: a, b, c`` when ``value`` is not in ``valid``.
    """
    choices = list(valid)
    if value not in choices:
        listed = ", ".join(str(choice) for choice in choices)
        raise SmiError(f"unknown {what} {value!r}; valid {plural or what + 's'}: {listed}")
    return value


#: Seeds are whole numbers below this (what numpy, scikit-learn and torch all accept).
SEED_LIMIT = 2**32


def check_seed(seed: object, parameter: str = "seed") -> int:
    """A seed numpy, scikit-learn and torch accept: a whole number in [0, 2³²); else a one-line error.

    Parameters
    ----------
    seed : object
        The seed as given.
    parameter : str
        The parameter it was given as, for the message.

    Returns
    -------
    int
        The seed.

    Raises
    ------
    ParameterValueError
        When it is not such a number.
    """
    import numbers

    if not isinstance(seed, numbers.Integral):  # a seed is never given as a float
        raise ParameterValueError(parameter, f"must be an integer (got {seed!r})")
    return check_scalar(seed, parameter, "integer", minimum=0, maximum=SEED_LIMIT - 1)
