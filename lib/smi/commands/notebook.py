"""``smi notebook clean``: executed notebooks without their per-run metadata, stamped with the code they ran."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("notebook", help="prepare executed notebooks for a commit")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    clean = actions.add_parser(
        "clean",
        help="rewrite executed notebooks in place without per-run metadata (timings, local paths), "
        "stamped with the hash of the smi code they import (make notebooks runs it)",
    )
    clean.add_argument("notebooks", type=Path, nargs="+", metavar="NOTEBOOK", help="an executed .ipynb file")
    clean.set_defaults(func=run_clean)


def run_clean(args) -> int:
    from smi import notebook

    for path in args.notebooks:
        notebook.clean_executed(path)
    return 0
