"""Every numbered notebook runs unattended through papermill in quick mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def kernel_name() -> str:
    """The project's kernel when installed (make setup does), else the default Python kernel."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "smi" if "smi" in KernelSpecManager().find_kernel_specs() else "python3"


def execute(notebook: Path, tmp_path: Path, **parameters):
    import papermill

    parameters = {"figures_dir": str(tmp_path / "figures"), "results_dir": str(tmp_path / "results"), **parameters}
    return papermill.execute_notebook(
        str(notebook), str(tmp_path / notebook.name), parameters=parameters, cwd=str(notebook.parent),
        kernel_name=kernel_name(), progress_bar=False,
    )


def test_notebooks_are_numbered_and_committed_without_outputs():
    assert [nb.name[:2] for nb in NOTEBOOKS][:4] == ["01", "02", "03", "04"]
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text())["cells"]
        tagged = [cell for cell in cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters'"
        assert "quick" in "".join(tagged[0]["source"]), f"{notebook.name}: parameters cell has no quick switch"
        for cell in cells:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{notebook.name}: committed with outputs"


@pytest.mark.notebooks
@pytest.mark.shared_data
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(notebook, tmp_path, release_dir):
    execute(notebook, tmp_path, quick=True)
    figures = list((tmp_path / "figures").glob("*.png"))
    assert figures, f"{notebook.name} wrote no figure"
    assert {p.stem for p in figures} == {p.stem for p in (tmp_path / "figures").glob("*.pdf")}


@pytest.mark.notebooks
@pytest.mark.shared_data
def test_regression_notebook_fits_only_the_requested_model(tmp_path, release_dir):
    import pandas as pd

    execute(ROOT / "notebooks" / "04_r2_regression.ipynb", tmp_path, models=["pythia-12b"])
    table = pd.read_csv(tmp_path / "results" / "r2_bucketed.csv")
    assert set(table["model"]) == {"pythia-12b"} and len(table) == 3
    panels = sorted(p.name for p in (tmp_path / "figures").glob("04_fit_*.png"))
    assert panels == ["04_fit_pythia-12b_co-occur.png", "04_fit_pythia-12b_mi.png", "04_fit_pythia-12b_smi.png"]


@pytest.mark.notebooks
@pytest.mark.shared_data
def test_unknown_model_stops_at_the_parameters_check_listing_valid_names(tmp_path, release_dir):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as failure:
        execute(ROOT / "notebooks" / "04_r2_regression.ipynb", tmp_path, models=["pythia-13b"])
    assert "unknown model 'pythia-13b'" in str(failure.value)
    assert "pythia-12b" in str(failure.value)  # the message lists the valid names
    assert not (tmp_path / "results").exists()  # nothing was fitted or written
