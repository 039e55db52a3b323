"""The notebooks: parameters that papermill documents and accepts, committed outputs that are clean and current.

nbval (switched on in pyproject.toml) reruns every committed notebook in full and compares
each output with the committed one; the tests here check what nbval does not: that the
committed notebooks carry their outputs and figures and nothing a reader should not see,
that they were made by the current library code, that every parameter is documented, and
that bad parameters stop with one line. (No test reruns a notebook that nbval already runs.)
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = ROOT / "notebooks" / "00_glossary.ipynb"
#: The numbered notebooks with code (the glossary has none).
NOTEBOOKS = [nb for nb in ALL_NOTEBOOKS if nb != GLOSSARY]
IDS = [nb.stem for nb in NOTEBOOKS]
PAPER_LINK = "https://arxiv.org/abs/2502.04066"
#: Text that must not appear in a committed output: warnings, tracebacks, tqdm bars ("45%|████").
FORBIDDEN_OUTPUT = re.compile(r"Warning|Traceback|\d%\|")


def kernel_name() -> str:
    """The project's kernel when installed (make setup does), else the default Python kernel."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "smi" if "smi" in KernelSpecManager().find_kernel_specs() else "python3"


def execute(notebook: Path, tmp_path: Path, **parameters):
    import papermill

    parameters = {"figures_dir": str(tmp_path / "figures"), "results_dir": str(tmp_path / "results"), **parameters}
    return papermill.execute_notebook(
        str(notebook),
        str(tmp_path / notebook.name),
        parameters=parameters,
        cwd=str(notebook.parent),
        kernel_name=kernel_name(),
        progress_bar=False,
    )


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def output_texts(output: dict) -> list[str]:
    """Every text an output shows: a stream, an error, or the text/* parts of a display."""
    if output["output_type"] == "stream":
        return ["".join(output["text"])]
    if output["output_type"] == "error":
        return [f"{output['ename']}: {output['evalue']}", *output.get("traceback", [])]
    return [
        "".join(value) if isinstance(value, list) else str(value)
        for mime, value in output.get("data", {}).items()
        if mime.startswith("text/")
    ]


def test_notebooks_are_numbered_with_a_glossary_first():
    assert [nb.name[:2] for nb in ALL_NOTEBOOKS] == [f"{number:02d}" for number in range(len(ALL_NOTEBOOKS))]
    assert len(ALL_NOTEBOOKS) >= 8, "the glossary, the six pipeline notebooks and the lab (07)"
    assert not [cell for cell in cells(GLOSSARY) if cell["cell_type"] == "code"], "the glossary holds no code"


def test_committed_notebooks_stay_light():
    total = sum(nb.stat().st_size for nb in ALL_NOTEBOOKS)
    assert total <= 15 * 2**20, f"committed notebooks take {total / 2**20:.1f} MB (limit 15 MB)"


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_every_parameter_has_a_type_and_a_description(notebook):
    """`papermill --help-notebook` shows a type and a description for each parameter (not "Unknown type")."""
    import papermill

    tagged = [cell for cell in cells(notebook) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters'"
    parameters = papermill.inspect_notebook(str(notebook))
    assert "quick" in parameters, f"{notebook.name}: parameters cell has no quick switch"
    for name, info in parameters.items():
        assert info["inferred_type_name"] not in ("None", ""), f"{notebook.name}: parameter '{name}' has no type"
        assert info["help"], f"{notebook.name}: parameter '{name}' has no description"
    for name, info in parameters.items():
        if name.endswith(("_dir", "_path")):
            assert info["default"] == "None", (
                f"{notebook.name}: path '{name}' must default to None (resolved via smi.data)"
            )


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=[nb.stem for nb in ALL_NOTEBOOKS])
def test_notebook_cites_the_paper_and_links_its_neighbours(notebook):
    first = source(cells(notebook)[0])
    assert PAPER_LINK in first, f"{notebook.name}: the first cell must cite the paper ({PAPER_LINK})"
    position = ALL_NOTEBOOKS.index(notebook)
    neighbours = ALL_NOTEBOOKS[max(position - 1, 0) : position] + ALL_NOTEBOOKS[position + 1 : position + 2]
    for neighbour in neighbours:
        assert f"({neighbour.name})" in first, f"{notebook.name}: no link to {neighbour.name} at the top"
    if notebook != GLOSSARY:
        assert "Exercises" in "".join(source(cell) for cell in cells(notebook) if cell["cell_type"] == "markdown")


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_committed_notebook_carries_clean_outputs_and_its_figures(notebook):
    """`make notebooks` executed it in place: every code cell ran, each figure it saves is shown, nothing else leaks."""
    code = [cell for cell in cells(notebook) if cell["cell_type"] == "code"]
    not_run = [i for i, cell in enumerate(code) if cell["execution_count"] is None]
    assert not not_run, f"{notebook.name}: code cells {not_run} have no outputs; run `make notebooks`"
    for cell in code:
        outputs = cell["outputs"]
        where = f"{notebook.name}, cell {source(cell)[:60]!r}"
        assert not [o for o in outputs if o["output_type"] == "error"], f"{where}: committed with an error"
        assert not [o for o in outputs if o.get("name") == "stderr"], f"{where}: writes to stderr"
        for text in (text for output in outputs for text in output_texts(output)):
            found = FORBIDDEN_OUTPUT.search(text)
            assert not found, f"{where}: output shows {found.group()!r}"
        if "save_figure(" in source(cell):
            assert any("image/png" in o.get("data", {}) for o in outputs), (
                f"{where}: saves a figure but does not show it"
            )
        # nbval runs cells outside IPython's history, where a trailing ';' does not hide the value:
        # the committed output and nbval's would then differ (end a figure cell with plt.show() instead)
        assert not source(cell).rstrip().endswith(";"), f"{where}: ends with ';', which nbval does not honour"


def test_papermill_help_lists_types_and_descriptions():
    """The command line a reader uses: every parameter line of 02 shows a type and its description."""
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", "notebooks/02_frequency_analysis.ipynb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Unknown type" not in result.stdout
    assert re.search(r"corpora: Optional\[list\[str\]\] \(default None\)\s+release corpora to compare", result.stdout)
    assert re.search(r"corpus_path: Optional\[str\] \(default None\)\s+JSONL corpus", result.stdout)


@pytest.mark.notebooks
@pytest.mark.shared_data
@pytest.mark.slow  # more than 10 s
def test_regression_notebook_fits_only_the_requested_model(tmp_path, release_dir):
    import pandas as pd

    execute(ROOT / "notebooks" / "04_r2_regression.ipynb", tmp_path, models=["pythia-12b"])
    table = pd.read_csv(tmp_path / "results" / "r2_bucketed.csv")
    assert set(table["model"]) == {"pythia-12b"} and len(table) == 3


@pytest.mark.notebooks
@pytest.mark.shared_data
def test_unknown_model_stops_at_the_parameters_check_listing_valid_names(tmp_path, release_dir):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as failure:
        execute(ROOT / "notebooks" / "04_r2_regression.ipynb", tmp_path, models=["pythia-13b"])
    assert "pythia-13b" in str(failure.value)
    assert "pythia-12b" in str(failure.value)  # the message lists the valid names
    assert not (tmp_path / "results").exists()  # nothing was fitted or written


@pytest.mark.notebooks
@pytest.mark.shared_data
def test_a_bad_parameter_stops_with_one_line_naming_it(tmp_path, release_dir):
    """03 with a model that does not exist: papermill fails, and the notebook shows one line, no traceback."""
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as failure:
        execute(ROOT / "notebooks" / "03_smi_derivation.ipynb", tmp_path, model="pythia-13b")
    assert failure.value.ename == "ParameterValueError"
    assert failure.value.evalue.startswith("model must be one of ") and "pythia-12b" in failure.value.evalue
    executed = json.loads((tmp_path / "03_smi_derivation.ipynb").read_text())
    errors = [
        o
        for cell in executed["cells"]
        if cell["cell_type"] == "code"
        for o in cell["outputs"]
        if o["output_type"] == "error"
    ]
    assert len(errors) == 1 and errors[0]["traceback"] == [f"ParameterValueError: {errors[0]['evalue']}"]
    assert not (tmp_path / "figures").exists()  # stopped before any work


def readme_papermill_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return [match.strip() for match in re.findall(r"`(papermill notebooks/[^`]+)`", readme)]


def test_readme_shows_a_papermill_example():
    assert readme_papermill_commands(), "README.md should show how to rerun a notebook with papermill"


@pytest.mark.notebooks
@pytest.mark.shared_data
@pytest.mark.parametrize("command", readme_papermill_commands())
@pytest.mark.slow  # more than 10 s
def test_readme_papermill_example_runs_verbatim_into_its_own_folder(command, tmp_path, release_dir, monkeypatch):
    """The command as printed (run from the project root; `papermill` is the venv's). A run with other
    parameters than the committed ones writes under results/runs/ only: the full results and figures stay."""
    argv = shlex.split(command)
    output = ROOT / argv[2]
    assert not output.exists(), f"{output} exists already; the test would overwrite it"
    figures, results = tmp_path / "figures", tmp_path / "results"
    monkeypatch.setenv("SMI_FIGURES_DIR", str(figures))
    monkeypatch.setenv("SMI_RESULTS_DIR", str(results))
    full = results / "r2_bucketed.csv"
    full.parent.mkdir(parents=True)
    full.write_text("the full run's table\n")
    try:
        result = subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(output.read_text())["cells"]
    finally:
        output.unlink(missing_ok=True)
    assert full.read_text() == "the full run's table\n"
    assert sorted(p.name for p in results.iterdir()) == ["r2_bucketed.csv", "runs"]
    assert not figures.exists()
    (run,) = (results / "runs").iterdir()
    assert run.name.startswith(Path(argv[1]).stem + "-") and any((run / "figures").glob("*.png"))
    if "04_r2_regression" in argv[1]:
        assert len(pd.read_csv(run / "r2_bucketed.csv")) == 3 * len(json.loads(argv[argv.index("models") + 1]))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_committed_outputs_were_made_by_the_current_library_code(notebook):
    """`make notebooks` stamps each notebook with the hash of the smi code it imports; a change of that code
    (not of a comment or a docstring) without a rerun of the notebook leaves a stale stamp."""
    from smi.notebook import STAMP_KEY, code_stamp

    committed = json.loads(notebook.read_text())
    stamp = committed["metadata"].get(STAMP_KEY)
    assert stamp is not None, f"{notebook.name}: no code stamp; run `make notebooks`"
    current = code_stamp(committed)
    assert stamp == current, (
        f"{notebook.name}: its outputs were made by other library code than the current one "
        f"(modules {', '.join(current['modules'])}); run `make notebooks`"
    )
