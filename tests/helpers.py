"""Small helpers shared by the test modules: files written in the project's input formats, and the
check that a command failed with one line."""

from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, texts: list[str], field: str = "text") -> Path:
    """A JSON-lines corpus at ``path``: one ``{field: text}`` record per text (folders made as needed)."""
    return write_lines(path, [json.dumps({field: text}) for text in texts])


def write_records(path: Path, records: list[dict | str]) -> Path:
    """JSON lines at ``path``: each record as JSON, a string written as it is (to plant a bad line)."""
    return write_lines(path, [r if isinstance(r, str) else json.dumps(r) for r in records])


def write_lines(path: Path, lines: list[str]) -> Path:
    """``lines`` at ``path``, each ended by a newline (folders made as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def one_line_error(code: int, err: str, *fragments: str) -> str:
    """The single ``smi: error:`` line of a failed command: exit status 2, no traceback, every fragment in it."""
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("smi: error: ")]
    assert len(lines) == 1 and err.rstrip("\n").endswith(lines[0]), err
    for fragment in fragments:
        assert fragment in lines[0], err
    return lines[0]
