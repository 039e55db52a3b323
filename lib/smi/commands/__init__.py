"""Sub-commands of the ``smi`` command line, one module each, and the options they share."""

from __future__ import annotations

import argparse

from smi.choices import ANSWER_IN_SUBJECT


def add_answer_in_subject_option(parser: argparse.ArgumentParser, default: str, why: str) -> None:
    """``--answer-in-subject keep|drop``, one convention for ``smi fit``, ``evaluate`` and ``predict``.

    The commands differ only in the default (``fit`` keeps the facts, as the paper did;
    ``evaluate`` and ``predict`` drop them).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser; the choice lands in ``args.answer_in_subject``.
    default : {"keep", "drop"}
        The command's default.
    why : str
        The end of the help text: why the default is what it is.
    """
    parser.add_argument(
        "--answer-in-subject",
        choices=ANSWER_IN_SUBJECT,
        default=default,
        help="keep or drop the facts whose object is written inside the subject's name (their release accuracy "
        f"is a scoring artefact: exactly 1 in 23 of the 24 models); default {default}: {why}",
    )


def add_fitting_options(parser: argparse.ArgumentParser) -> None:
    """``--gbm-iterations`` and ``--threads``, the fitting options of ``smi evaluate`` and ``smi predict``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser; check the values with :func:`check_fitting_options`.
    """
    parser.add_argument(
        "--gbm-iterations", type=int, default=300, metavar="K", help="boosting iterations (default 300)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="T",
        help="threads of the numerical libraries while fitting (default 1: fastest on a small shared machine)",
    )


def check_fitting_options(args: argparse.Namespace) -> None:
    """Refuse ``--gbm-iterations`` or ``--threads`` below 1 before any work, with the library's own checks.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of a parser given :func:`add_fitting_options`.

    Raises
    ------
    ParameterValueError
        Naming the parameter; :func:`smi.cli.flag_message` says the flag.
    """
    from smi.prediction.settings import check_gbm_iterations, check_threads

    check_gbm_iterations(args.gbm_iterations)
    check_threads(args.threads)
