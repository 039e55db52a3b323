"""Shared fixtures: where the real released data is, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_release(name: str) -> Path | None:
    """The fetched copy (data/external) if complete, else the mirror (../shared/data)."""
    candidates = [ROOT / "data" / "external" / name]
    if os.environ.get("SMI_DATA_MIRROR"):
        candidates.append(Path(os.environ["SMI_DATA_MIRROR"]) / name)
    candidates.append(ROOT.parent / "shared" / "data" / name)
    for candidate in candidates:
        if (candidate / "SHA256SUMS").is_file() or any(candidate.glob("*")):
            return candidate
    return None


def _release_or_skip(name: str) -> Path:
    found = _find_release(name)
    if found is None:
        pytest.skip(f"{name} not available: run `make data` or provide ../shared/data")
    return found


@pytest.fixture(scope="session")
def release_dir() -> Path:
    """The paper's released data (skips the test when neither fetched nor mirrored)."""
    return _release_or_skip("smi-release")


@pytest.fixture(scope="session")
def pararel_root() -> Path:
    """ParaRel's release (skips the test when neither fetched nor mirrored)."""
    return _release_or_skip("pararel")


@pytest.fixture
def run_cli(capsys):
    """Run ``smi`` in-process: returns (exit code, stdout, stderr)."""
    from smi.cli import main

    def run(*argv: str):
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture(scope="session")
def release_fit(release_dir):
    """(bucketed, per-fact) fits of the 24 released models, computed once per session."""
    from smi import regression

    return regression.fit_release(release_dir)


@pytest.fixture(scope="session")
def quick_lab(tmp_path_factory):
    """`smi lab run --quick --seeds 2 --export RESULTS` once per session, in-process: (run folder, exit code,
    results folder). The lab's tests and the tests of its committed tables share it (about a minute and a half)."""
    from smi.cli import main

    base = tmp_path_factory.mktemp("quick-lab")
    out, results = base / "lab", base / "results"
    argv = ["lab", "run", "--out", str(out), "--quick", "--no-progress", "--seeds", "2", "--export", str(results)]
    return out, main(argv), results
