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

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < SEED_LIMIT:
        raise ParameterValueError(parameter, f"must be an integer from 0 to {SEED_LIMIT - 1}, got {seed}")
    return int(seed)
