"""The lab's committed result tables (notebooks/results/lab): stamped with the code that made them, re-validated
when read, rewritten by `smi lab run --export` (here at the tests' reduced size)."""

from __future__ import annotations

import json
import shutil
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


@pytest.fixture(scope="module")
def exported(quick_lab):
    """The session's `smi lab run --quick --export DIR` (tests/conftest.py): (run folder, results folder)."""
    out, code, folder = quick_lab
    assert code == 0
    return out, folder


@pytest.mark.slow
def test_a_reduced_lab_run_exports_stamped_tables_that_load(exported):
    _, folder = exported
    assert results.stale_reason(folder) is None
    lab = results.load_results(folder)
    assert lab["current"]
    seeds = sorted(lab["accuracies"]["seed"].unique())
    assert len(seeds) == 2 and set(lab["summary"]["counts_equal_truth"]) == {str(s) for s in seeds}
    assert all(agree == total for agree, total in lab["summary"]["counts_equal_truth"].values())
    assert set(lab["arms"]["arm"]) == {"competitor", "subject", "object"}
    assert {"chance_acc", "prior_chance", "rank1_acc", "seed", "k"} <= set(lab["accuracies"].columns)
    assert len(lab["examples"]) == 4
    stamp = json.loads((folder / results.STAMP).read_text())
    assert stamp["code_sha256"] == results.results_code_sha256()


@pytest.mark.slow
def test_a_changed_or_missing_table_or_stamp_is_refused(exported, tmp_path):
    _, folder = exported
    copy = shutil.copytree(folder, tmp_path / "copy")
    with open(copy / "arms.csv", "a", encoding="utf-8") as handle:
        handle.write("competitor,many,all,l,0.9,0.8,1.0,1,1,0\n")
    with pytest.raises(SmiError, match=r"arms\.csv: missing or changed"):
        results.load_results(copy)
    (copy / "arms.csv").unlink()
    assert "arms.csv" in results.stale_reason(copy)
    (copy / results.STAMP).write_text("{")
    with pytest.raises(SmiError, match="no readable stamp"):
        results.read_stamp(copy)


@pytest.mark.slow
def test_a_stamp_of_other_code_is_stale(exported, tmp_path):
    _, folder = exported
    copy = shutil.copytree(folder, tmp_path / "copy")
    stamp = json.loads((copy / results.STAMP).read_text())
    stamp["code_sha256"] = "0" * 64
    (copy / results.STAMP).write_text(json.dumps(stamp))
    assert "other lab code" in results.stale_reason(copy)
    assert results.load_results(copy)["current"] is False


def test_export_needs_a_finished_run(tmp_path):
    with pytest.raises(SmiError, match="finished `smi lab run` folder"):
        results.export_results(tmp_path / "nothing", tmp_path / "out")
