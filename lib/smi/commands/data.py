"""``smi data fetch``: obtain and verify the released data."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="fetch and verify the released data")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="download (or copy from a mirror) every release file and check SHA256")
    fetch.add_argument(
        "--mirror",
        type=Path,
        help="local copy laid out as <release>/<path> (default: $SMI_DATA_MIRROR or ../shared/data)",
    )
    fetch.add_argument("--dest", type=Path, help="target folder (default: data/external)")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args) -> int:
    from smi import data  # imported here: its network modules would slow every command's start

    dest = args.dest or data.external_dir()
    mirror = args.mirror or data.default_mirror()
    counts = data.fetch(dest, mirror)
    source = f"mirror {mirror}" if mirror else "origin"
    print(f"{dest}: {counts['written']} files written, {counts['kept']} already verified (from {source})")
    return 0
