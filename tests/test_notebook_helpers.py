"""smi.notebook: parameter checks, default locations, clean display, one-line errors, committed-notebook cleaning;
and every name a notebook takes from an smi module (smi.notebook, smi.plots, smi.regression, …) exists."""

from __future__ import annotations

import ast
import importlib
import json
import math
from pathlib import Path

import pytest

from smi import cli, notebook
from smi.errors import ParameterValueError, SmiError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "value",
    [["pythia-12b", "gpt-j-6b"], ("pythia-12b", "gpt-j-6b"), '["pythia-12b", "gpt-j-6b"]', "pythia-12b, gpt-j-6b"],
)
def test_list_parameter_accepts_a_list_json_text_or_comma_separated_names(value):
    assert notebook.list_parameter(value, "models", ["pythia-12b", "gpt-j-6b", "bloom"]) == ["pythia-12b", "gpt-j-6b"]


@pytest.mark.parametrize("value", [None, "None", "null", ""])
def test_list_parameter_none_means_all(value):
    assert notebook.list_parameter(value, "models", ["a"]) is None


def test_list_parameter_names_the_parameter_the_wrong_value_and_the_valid_ones():
    with pytest.raises(
        ParameterValueError, match=r"^models must name only a, pythia-12b \(got 'pythia-13b'\)$"
    ) as error:
        notebook.list_parameter('["pythia-13b"]', "models", ["a", "pythia-12b"])
    assert error.value.parameter == "models"
    with pytest.raises(ParameterValueError, match=r"^models is not a JSON list"):
        notebook.list_parameter('["pythia-12b"', "models")
    with pytest.raises(ParameterValueError, match=r"^models is an empty list; use None for all$"):
        notebook.list_parameter("[]", "models")
    with pytest.raises(ParameterValueError, match=r"^models must be a list of names \(got \[1, 2\]\)$"):
        notebook.list_parameter("[1, 2]", "models")


def test_parameter_errors_are_the_librarys_one_parameter_error():
    with pytest.raises(ParameterValueError) as error:
        notebook.bool_parameter("maybe", "quick")
    assert isinstance(error.value, SmiError) and error.value.parameter == "quick"
    assert not hasattr(notebook, "ParameterError")


def test_choice_number_bool_and_path_parameters():
    assert notebook.choice_parameter("capital", "relation", ["born", "capital"]) == "capital"
    with pytest.raises(ParameterValueError, match=r"^relation must be one of born, capital \(got 'capitol'\)$"):
        notebook.choice_parameter("capitol", "relation", ["born", "capital"])
    assert notebook.number_parameter("0.5", "bucket_width", minimum=0.01) == 0.5
    assert notebook.number_parameter(6.0, "n_examples", integer=True) == 6
    for bad, message in (
        (0, r"^bucket_width must be at least 0.01 \(got 0\)$"),
        ("wide", r"^bucket_width must be a number \(got 'wide'\)$"),
        (True, r"^bucket_width must be a finite number \(got True\)$"),
        (float("nan"), r"^bucket_width must be a finite number \(got nan\)$"),
    ):
        with pytest.raises(ParameterValueError, match=message):
            notebook.number_parameter(bad, "bucket_width", minimum=0.01)
    with pytest.raises(ParameterValueError, match=r"^n_examples must be an integer \(got 2.5\)$"):
        notebook.number_parameter(2.5, "n_examples", integer=True)
    assert notebook.bool_parameter("True", "quick") is True and notebook.bool_parameter("no", "quick") is False
    with pytest.raises(ParameterValueError, match=r"^quick must be true or false \(got 'maybe'\)$"):
        notebook.bool_parameter("maybe", "quick")
    assert notebook.path_parameter(None, Path("/default")) == Path("/default")
    assert notebook.path_parameter("  ", Path("/default")) == Path("/default")
    assert notebook.path_parameter("elsewhere/x", Path("/default")) == Path("elsewhere/x")


def test_default_output_folders_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SMI_FIGURES_DIR", str(tmp_path / "f"))
    monkeypatch.setenv("SMI_RESULTS_DIR", str(tmp_path / "r"))
    assert notebook.figures_dir() == tmp_path / "f" and notebook.results_dir() == tmp_path / "r"
    monkeypatch.delenv("SMI_FIGURES_DIR")
    monkeypatch.delenv("SMI_RESULTS_DIR")
    monkeypatch.chdir(Path(__file__).resolve().parents[1] / "notebooks")
    root = Path(__file__).resolve().parents[1]
    assert notebook.figures_dir() == root / "figures" and notebook.results_dir() == root / "results"
    assert notebook.corpus_path() == root / "data" / "corpus" / "vital_en.jsonl"


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize(
    "value, text",
    [
        (0.0, "0"),
        (12.0, "12"),
        (12_000_000_000.0, "12,000,000,000"),
        (1234.5678, "1,234.6"),
        (0.856241, "0.8562"),
        (-0.03871, "-0.03871"),
        (0.0012345, "0.001234"),
        (0.0000123, "1.23e-05"),
        (float("nan"), "nan"),
        (math.inf, "inf"),
    ],
)
def test_format_number(value, text):
    assert notebook.format_number(value) == text


def test_formatted_writes_the_named_columns_as_text():
    import pandas as pd

    frame = pd.DataFrame({"recall": [1.0, 0.98240, float("nan")], "n": [1, 2, 3]})
    shown = notebook.formatted(frame, {"recall": "{:.2%}"})
    assert list(shown["recall"]) == ["100.00%", "98.24%", ""] and list(shown["n"]) == [1, 2, 3]
    assert frame["recall"].iloc[0] == 1.0  # the input is left alone
    with pytest.raises(KeyError, match="precision"):
        notebook.formatted(frame, {"precision": "{:.2%}"})


def test_setup_shows_every_column_formats_floats_and_silences_progress_bars(capsys):
    import pandas as pd
    import tqdm
    import tqdm.auto

    previous = {key: pd.get_option(key) for key in ("display.max_columns", "display.float_format")}
    original = (tqdm.tqdm, tqdm.auto.tqdm)
    try:
        notebook.setup()
        wide = pd.DataFrame([[0.000001 * (i + 1) for i in range(24)]], columns=[f"model-{i}" for i in range(24)])
        text = repr(wide)
        assert "..." not in text and "model-23" in text and "0.000001" not in text and "1.00e-06" in text
        from tqdm.auto import tqdm as auto_bar

        assert sum(1 for _ in auto_bar(range(50), desc="counting")) == 50
        assert sum(1 for _ in tqdm.tqdm(range(5))) == 5
        captured = capsys.readouterr()
        assert captured.err == "" and captured.out == ""
    finally:
        for key, value in previous.items():
            pd.set_option(key, value)
        tqdm.tqdm, tqdm.auto.tqdm = original


def test_a_parameter_error_shows_as_one_line_and_the_cell_still_fails(capsys):
    """The IPython handler that notebook.setup() installs: one line, and the cell is recorded as failed."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.set_custom_exc((SmiError,), notebook.one_line_error)
        result = shell.run_cell("from smi import notebook\nnotebook.choice_parameter('x', 'model', ['a', 'b'])")
        assert not result.success and isinstance(result.error_in_exec, ParameterValueError)
        shown = capsys.readouterr().out
        assert shown.strip() == "ParameterValueError: model must be one of a, b (got 'x')"
        result = shell.run_cell("1 / 0")  # other errors keep their full traceback
        assert "Traceback" in capsys.readouterr().out and not result.success
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()


# --------------------------------------------------------------------------- committed notebooks


def test_clean_strips_run_metadata_and_keeps_outputs(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        "1 + 1",
        execution_count=1,
        outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)],
    )
    cell.metadata.update(
        {
            "tags": ["parameters"],
            "papermill": {"duration": 0.5, "status": "completed"},
            "execution": {"iopub.execute_input": "2026-01-01T00:00:00Z"},
        }
    )
    nb.cells = [cell]
    nb.metadata["papermill"] = {"input_path": "/home/someone/notebooks/x.ipynb", "duration": 3.2}
    nb.metadata["kernelspec"] = {"name": "smi", "display_name": "Python (smi)", "language": "python"}
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, str(path))
    assert cli.main(["notebook", "clean", str(path)]) == 0
    cleaned = json.loads(path.read_text())
    assert "papermill" not in cleaned["metadata"] and cleaned["metadata"]["kernelspec"]["name"] == "smi"
    assert cleaned["cells"][0]["metadata"] == {"tags": ["parameters"]}
    assert "".join(cleaned["cells"][0]["outputs"][0]["data"]["text/plain"]) == "2"
    assert "/home/someone" not in path.read_text()


def test_clean_reports_a_file_that_is_not_a_notebook(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert cli.main(["notebook", "clean", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"smi: error: {broken}: cannot read the notebook") and err.count("\n") == 1
    assert broken.read_text() == "{not json"
    for wrong in (["notebook", "tidy"], ["notebook", "clean"]):  # no such action; no notebook named
        with pytest.raises(SystemExit) as stop:
            cli.main(wrong)
        assert stop.value.code == 2


def test_clean_is_a_subcommand_of_smi_only():
    assert "notebook" in cli.build_parser().format_help()
    assert not hasattr(notebook, "main")
    assert not (Path(notebook.__file__).parent / "__main__.py").exists()


# --------------------------------------------------------------------------- where a run writes


def _regression_parameters(**changed):
    values = {"release_dir": None, "models": None, "bucket_width": 0.2, "quick": False}
    return {**values, **changed}


def test_a_run_with_the_committed_parameters_writes_to_the_project_folders(tmp_path, monkeypatch):
    monkeypatch.setenv(notebook.FIGURES_DIR_ENV, str(tmp_path / "figures"))
    monkeypatch.setenv(notebook.RESULTS_DIR_ENV, str(tmp_path / "results"))
    folders = notebook.output_folders("04_r2_regression", None, None, _regression_parameters())
    assert folders == (tmp_path / "figures", tmp_path / "results")


def test_a_run_with_other_parameters_writes_to_a_folder_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv(notebook.FIGURES_DIR_ENV, str(tmp_path / "figures"))
    monkeypatch.setenv(notebook.RESULTS_DIR_ENV, str(tmp_path / "results"))
    subset = _regression_parameters(models='["pythia-12b"]')
    figures, results = notebook.output_folders("04_r2_regression", None, None, subset)
    assert results.parent == tmp_path / "results" / "runs" and results.name.startswith("04_r2_regression-")
    assert figures == results / "figures"
    again = notebook.output_folders("04_r2_regression", None, None, subset)
    other = notebook.output_folders("04_r2_regression", None, None, _regression_parameters(bucket_width=0.5))
    assert again == (figures, results) and other[1] != results
    mine = str(tmp_path / "mine")
    chosen = notebook.output_folders("04_r2_regression", mine, None, _regression_parameters(quick=True))
    assert chosen[0] == tmp_path / "mine" and chosen[1].parent == tmp_path / "results" / "runs"


def test_output_folders_wants_every_parameter_of_the_notebook():
    parameters = _regression_parameters()
    del parameters["bucket_width"]
    with pytest.raises(SmiError, match="bucket_width"):
        notebook.output_folders("04_r2_regression", None, None, parameters)
    with pytest.raises(SmiError, match="extra"):
        notebook.output_folders("04_r2_regression", None, None, {**_regression_parameters(), "extra": 1})


# --------------------------------------------------------------------------- names the notebooks use

#: The smi modules whose names notebooks use as ``module.NAME`` and that these tests cover.
CHECKED_MODULES = ("notebook", "panels", "paper_tables", "plots", "prediction", "regression", "sentences", "trends")


def notebook_attributes(path: Path) -> dict[str, set[str]]:
    """Every ``module.NAME`` in the code cells of a notebook, for each module of :data:`CHECKED_MODULES` it imports
    with ``from smi import ...``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    trees = []
    for cell in cells:
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            trees.append(ast.parse("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))))
    imported = {}  # the name a module is bound to in the notebook -> the module
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "smi":
                for alias in node.names:
                    if alias.name in CHECKED_MODULES:
                        imported[alias.asname or alias.name] = alias.name
    used: dict[str, set[str]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
                used.setdefault(imported[node.value.id], set()).add(node.attr)
    return used


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_name_a_notebook_takes_from_the_checked_modules_exists(path):
    for module, names in notebook_attributes(path).items():
        missing = sorted(name for name in names if not hasattr(importlib.import_module(f"smi.{module}"), name))
        assert not missing, f"{path.name} uses smi.{module}.{', '.join(missing)}, which do not exist"


def test_the_notebooks_use_the_checked_modules():
    used = [notebook_attributes(path) for path in NOTEBOOKS]
    assert {module for names in used for module in names} == set(CHECKED_MODULES)
    assert all("setup" in names.get("notebook", ()) for names in used[1:])  # 00 is the glossary: no code


@pytest.mark.parametrize(
    "package", ["smi.notebook", "smi.paper_tables", "smi.plots", "smi.regression", "smi.sentences"]
)
def test_a_package_exports_every_public_name_of_its_modules(package):
    """One name per thing: each name is defined in one module and reached as ``package.NAME``."""
    import pkgutil

    top = importlib.import_module(package)
    defined = []
    for info in pkgutil.iter_modules(top.__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        assert module.__doc__, f"{module.__name__} says its one idea in its docstring"
        assert len(Path(module.__file__).read_text(encoding="utf-8").splitlines()) <= 500, module.__name__
        public = {name for name, value in vars(module).items() if getattr(value, "__module__", None) == module.__name__}
        assert public - {name for name in public if name.startswith("_")} <= set(module.__all__), module.__name__
        defined += module.__all__
    assert sorted(top.__all__) == sorted(defined) and len(set(defined)) == len(defined)
    assert all(hasattr(top, name) for name in top.__all__)
