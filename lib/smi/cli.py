"""The ``smi`` command line: one sub-command per pipeline step, over the library functions.

Each sub-command lives in a module of :mod:`smi.commands` exposing
``register(subparsers)``. Errors of input or data (:class:`smi.SmiError`) are
printed as one line, ``smi: error: ...``, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from smi import __version__
from smi.errors import SmiError

#: Sub-command modules, in the order ``smi --help`` lists them.
COMMAND_MODULES = [
    "smi.commands.data",
    "smi.commands.fit",
    "smi.commands.corpus",
    "smi.commands.probe",
    "smi.commands.triples",
    "smi.commands.count",
    "smi.commands.evaluate",
    "smi.commands.predict",
    "smi.commands.lab",
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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:  # building the parser imports every command module: an interrupt may land there too
        args = build_parser().parse_args(argv)
        result = args.func(args)
    except SmiError as error:
        print(f"smi: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("smi: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
