"""The ``smi`` command line: one sub-command per pipeline step, over the library functions.

Each sub-command lives in a module of :mod:`smi.commands` exposing
``register(subparsers)``. Errors of input or data (:class:`smi.SmiError`) are
printed as one line, ``smi: error: ...``, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from smi import __version__
from smi.errors import ParameterValueError, SmiError

#: Sub-command modules, in the order ``smi --help`` lists them.
COMMAND_MODULES = [
    "smi.commands.data",
    "smi.commands.fit",
    "smi.commands.panels",
    "smi.commands.corpus",
    "smi.commands.probe",
    "smi.commands.triples",
    "smi.commands.count",
    "smi.commands.evaluate",
    "smi.commands.predict",
    "smi.commands.lab",
    "smi.commands.notebook",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="smi", description="Predict knowledge retention of language models from pre-training data."
    )
    parser.add_argument("--version", action="version", version=f"smi {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


#: Library parameters whose flag is not ``--`` + the name with dashes.
FLAG_OF_PARAMETER = {
    "out_dir": "--out",
    "parameters": "--params",
    "width": "--bucket-width",
    "shard_bytes": "--shard-mb",
}


def flag_message(error: SmiError) -> str:
    """The error's one-line message as the command line says it: parameters named by their flags.

    Parameters
    ----------
    error : SmiError
        The error; a :class:`~smi.errors.ParameterValueError` names its parameter, any other is kept as it is.

    Returns
    -------
    str
        E.g. ``--max-new-tokens must be at least 1 (got 0)`` for the parameter ``max_new_tokens``.
    """
    if not isinstance(error, ParameterValueError):
        return str(error)
    flag = FLAG_OF_PARAMETER.get(error.parameter, "--" + error.parameter.replace("_", "-"))
    return error.message(flag)


class _InterruptWatch:
    """A SIGINT (and SIGTERM) handler that raises :class:`KeyboardInterrupt`, as Python's own does, and remembers it.

    An interrupt that lands inside an import of a C extension (numpy, say) can surface as
    an ``ImportError`` instead; remembering it lets :func:`main` report the interrupt.
    """

    def __init__(self) -> None:
        self.received = False
        self.pid = os.getpid()

    def __call__(self, number, frame) -> None:
        if number == signal.SIGTERM and os.getpid() != self.pid:  # a forked worker ends as SIGTERM ends it
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        self.received = True
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    watch = _InterruptWatch()
    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    # SIGTERM as SIGINT: a stopped run leaves its temporaries removed, its outputs as they were, exit 130
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    previous = {number: signal.getsignal(number) for number in defaults}
    for number, default in defaults.items():
        if in_main_thread and previous[number] is default:  # leave an ignored or custom handler alone
            signal.signal(number, watch)
    try:
        return _run(argv, watch)
    finally:
        for number, handler in previous.items():
            if in_main_thread and signal.getsignal(number) is watch:
                signal.signal(number, handler)


def _run(argv: list[str] | None, watch: _InterruptWatch) -> int:
    """Parse ``argv``, run the sub-command and map its errors to exit statuses."""
    try:  # building the parser imports every command module: an interrupt may land there too
        args = build_parser().parse_args(argv)
        result = args.func(args)
    except (Exception, KeyboardInterrupt) as error:
        if watch.received or isinstance(error, KeyboardInterrupt):
            print("smi: interrupted", file=sys.stderr)
            return 130
        if isinstance(error, SmiError):
            print(f"smi: error: {flag_message(error)}", file=sys.stderr)
            return 2
        raise
    return int(result or 0)
