"""The lab's committed result tables (notebooks/results/lab): stamped with the code that made them, re-validated
when read. The tests of `smi lab run --export` at the tests' reduced size are in test_lab.py, beside the other
tests of that one run (pytest-xdist keeps a file on one worker, so the run is made once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smi.errors import SmiError
from smi.lab import results

ROOT = Path(__file__).resolve().parents[1]


def test_committed_lab_tables_were_made_by_the_current_code():
    """Notebook 07 reads these tables; a change of the lab's code without `make labrun` leaves them stale."""
    reason = results.stale_reason(results.committed_dir())
    assert reason is None, reason


def test_committed_lab_tables_are_small_and_hold_no_model():
    folder = results.committed_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([*results.RESULT_TABLES, results.STAMP])
    assert sum(p.stat().st_size for p in folder.iterdir()) < 2 * 2**20


def test_export_needs_a_finished_run(tmp_path):
    with pytest.raises(SmiError, match="finished `smi lab run` folder"):
        results.export_results(tmp_path / "nothing", tmp_path / "out")
