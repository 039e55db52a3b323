"""``smi corpus vital-articles``: write the default English corpus as JSONL."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("corpus", help="write a packaged corpus as JSONL")
    actions = parser.add_subparsers(dest="action", metavar="CORPUS", required=True)
    vital = actions.add_parser("vital-articles", help="10,033 English Wikipedia vital-article summaries")
    vital.add_argument(
        "--out",
        type=Path,
        default=Path("data/corpus/vital_en.jsonl"),
        help="output JSONL (default: data/corpus/vital_en.jsonl)",
    )
    vital.set_defaults(func=run_vital)


def run_vital(args) -> int:
    from smi import corpus

    records = corpus.vital_articles()
    corpus.write_jsonl(records, args.out)
    print(f"{args.out}: {len(records)} documents")
    return 0
