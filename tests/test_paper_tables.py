"""The authors' own results table (analysis/main_tables/main_table.xlsx): reading it, and our fit against it."""

import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from smi import formats, metrics, paper_tables
from smi.errors import SmiError, check_one_of
from smi.paper_tables.sheets import _check_header, _name, _number, _read_sheet

HEADER = ["model", "method", "a", "b", "F", "R2", "MSE", "x intercept", "upper bound", "acc"]


#: The authors' model x method tables of R² and MSE, paths inside a release folder (read only by these tests).
WIDE_TABLES = {
    "r2": Path("analysis") / "main_tables" / "r2_table.xlsx",
    "mse": Path("analysis") / "main_tables" / "mse_table.xlsx",
}


def load_wide_table(release_dir: Path, quantity: str) -> pd.DataFrame:
    """The authors' model x method table of R² or MSE (``analysis/main_tables/{r2,mse}_table.xlsx``).

    Parameters
    ----------
    release_dir : path
        The release folder.
    quantity : {"r2", "mse"}
        Which table.

    Returns
    -------
    pandas.DataFrame
        Long form: model, method, and a column named ``quantity``, one row per cell.
    """
    check_one_of(quantity, WIDE_TABLES, "quantity", "quantities")
    path = Path(release_dir) / WIDE_TABLES[quantity]
    header, body = _read_sheet(path)
    _check_header(path, header, ["model", *paper_tables.METHOD_NAMES])
    models, seen, rows = paper_tables.model_names(), {}, []
    for number, cells in body:
        if len(cells) != len(header):
            raise SmiError(f"{path}: row {number}: {len(cells)} cells, expected {len(header)}")
        model = _name(path, number, "model", cells[0], models, "model")
        if model in seen:
            raise SmiError(f"{path}: row {number}: model '{model}' already given in row {seen[model]}")
        seen[model] = number
        for method, value in zip(header[1:], cells[1:]):
            rows.append(
                {
                    "model": model,
                    "method": paper_tables.METHOD_NAMES[method],
                    quantity: _number(path, number, method, value),
                }
            )
    return pd.DataFrame(rows, columns=["model", "method", quantity])


def fit_row(model, method, slope, intercept, r2=0.5, mse=0.07, acc=0.1):
    """One consistent row in the release's layout."""
    sign = "-" if intercept < 0 else "+"
    return [
        model,
        method,
        slope,
        intercept,
        f"y = {slope:.3f}x {sign} {abs(intercept):.3f}",
        r2,
        mse,
        -intercept / slope,
        slope + intercept,
        acc,
    ]


def valid_rows():
    return [
        list(HEADER),
        fit_row("pythia-14m", "CO-OCCUR", 0.14, 0.0097, r2=0.24),
        fit_row("pythia-14m", "MI", 0.28, -0.0466, r2=0.37),
        fit_row("pythia-14m", "SMI", 0.2795, -0.0434, r2=0.38),
    ]


def write_release(tmp_path, rows, relative=paper_tables.MAIN_TABLE):
    """A release folder whose given xlsx holds ``rows`` (header included) on one sheet."""
    folder = tmp_path / "release"
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return folder


def test_a_small_table_is_read_under_our_names(tmp_path):
    table = paper_tables.load_main_table(write_release(tmp_path, valid_rows()))
    assert list(table.columns) == paper_tables.TABLE_COLUMNS
    assert list(table.method) == list(metrics.METHODS)
    assert set(table.model) == {"pythia-14m"}
    mi = table.set_index("method").loc["MI"]
    assert mi.slope == 0.28 and mi.intercept == -0.0466 and mi.r2 == 0.37
    assert mi.upper_bound == pytest.approx(0.28 - 0.0466, abs=1e-15)
    assert mi.x_intercept == pytest.approx(0.0466 / 0.28, abs=1e-15)


def _set(row_index, column, value):
    def change(rows):
        rows[row_index][HEADER.index(column)] = value

    return change


def _add_fourth_model_row(rows):
    rows.append(fit_row("pythia-70m", "MI", 0.3, -0.05))


# (case, change to the valid rows, expected message after the file name)
BAD_TABLES = [
    ("bad header", _set(0, "R2", "R^2"), r"row 1: header .*'R\^2'"),
    ("unknown model", _set(2, "model", "pythia-15m"), r"row 3: column 'model': unknown model 'pythia-15m'"),
    ("unknown method", _set(3, "method", "PMI"), r"row 4: column 'method': unknown method 'PMI'"),
    ("text for a number", _set(1, "MSE", "n/a"), r"row 2: column 'MSE' must be a finite number, got 'n/a'"),
    ("empty number", _set(2, "acc", None), r"row 3: column 'acc' must be a finite number, got None"),
    ("line disagrees with a", _set(1, "a", 0.15), r"row 2: column 'F' .* disagrees with a=0\.15"),
    ("upper bound off", _set(2, "upper bound", 0.3), r"row 3: column 'upper bound' is 0\.3"),
    ("x intercept off", _set(3, "x intercept", 0.2), r"row 4: column 'x intercept' is 0\.2"),
    ("duplicate pair", _set(3, "method", "MI"), r"row 4: pythia-14m / MI already given in row 3"),
    ("model lacks methods", _add_fourth_model_row, r"model 'pythia-70m' has no row for CO-OCCUR, SMI"),
    ("mean accuracy differs", _set(3, "acc", 0.2), r"model 'pythia-14m': column 'acc' differs"),
]


@pytest.mark.parametrize("change, message", [case[1:] for case in BAD_TABLES], ids=[case[0] for case in BAD_TABLES])
def test_a_malformed_table_is_one_line_naming_file_and_row(tmp_path, change, message):
    rows = valid_rows()
    change(rows)
    with pytest.raises(SmiError, match=r"main_table\.xlsx: " + message) as caught:
        paper_tables.load_main_table(write_release(tmp_path, rows))
    assert "\n" not in str(caught.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path):
    with pytest.raises(SmiError, match=r"main_table\.xlsx: file not found"):
        paper_tables.load_main_table(tmp_path)
    path = tmp_path / paper_tables.MAIN_TABLE
    path.parent.mkdir(parents=True)
    path.write_text("model,method\n")
    with pytest.raises(SmiError, match=r"main_table\.xlsx: cannot read xlsx"):
        paper_tables.load_main_table(tmp_path)


def test_a_model_table_must_hold_its_own_model(tmp_path):
    rows = [[None, *HEADER]] + [[number, *row] for number, row in enumerate(valid_rows()[1:])]
    folder = write_release(tmp_path, rows, paper_tables.MODEL_TABLES / "pythia-70m.xlsx")
    with pytest.raises(SmiError, match=r"pythia-70m\.xlsx: holds rows of pythia-14m, expected only pythia-70m"):
        paper_tables.load_model_tables(folder, ["pythia-70m"])
    folder = write_release(tmp_path, rows, paper_tables.MODEL_TABLES / "pythia-14m.xlsx")
    assert len(paper_tables.load_model_tables(folder, ["pythia-14m"])) == 3


def test_compare_with_fit_pairs_rows_and_shared_quantities_only():
    paper = pd.DataFrame(
        {
            "model": ["m1", "m1", "m2"],
            "method": ["MI", "SMI", "MI"],
            "r2": [0.5, 0.6, 0.7],
            "slope": [1.0, 2.0, 3.0],
            "mse": [0.1, 0.1, 0.1],
        }
    )
    ours = pd.DataFrame(
        {
            "model": ["m1", "m1", "m3"],
            "method": ["SMI", "MI", "MI"],
            "r2": [0.6, 0.25, 0.9],
            "slope": [2.5, 1.0, 3.0],
            "n_facts": [10, 10, 10],
        }
    )
    comparison = paper_tables.compare_with_fit(ours, paper)
    assert list(comparison.columns) == paper_tables.COMPARISON_COLUMNS
    assert comparison[["model", "method", "quantity"]].values.tolist() == [
        ["m1", "MI", "slope"],
        ["m1", "MI", "r2"],
        ["m1", "SMI", "slope"],
        ["m1", "SMI", "r2"],
    ]
    assert comparison.abs_diff.tolist() == [0.0, 0.25, 0.5, 0.0]
    assert comparison.ours.tolist() == [1.0, 0.25, 2.5, 0.6]
    largest = paper_tables.largest_differences(comparison).set_index("quantity")
    assert largest.loc["r2", "max_abs_diff"] == 0.25 and largest.loc["r2", "method"] == "MI"
    assert largest.loc["slope", "n_rows"] == 2
    with pytest.raises(SmiError, match="no \\(model, method\\) pair in common"):
        paper_tables.compare_with_fit(ours[ours.model == "m3"], paper)
    with pytest.raises(SmiError, match="fitted table has m1 / SMI more than once"):
        paper_tables.compare_with_fit(pd.concat([ours, ours]), paper)


@pytest.fixture(scope="module")
def main_table(release_dir):
    return paper_tables.load_main_table(release_dir)


@pytest.mark.shared_data
def test_every_row_of_the_authors_table_is_reproduced_to_1e_9(release_fit, main_table):
    bucketed, _ = release_fit
    assert len(main_table) == 72
    pairs = set(zip(main_table.model, main_table.method))
    assert pairs == {(model, method) for model in formats.load_models().name for method in metrics.METHODS}
    comparison = paper_tables.compare_with_fit(bucketed, main_table)
    assert len(comparison) == 72 * len(paper_tables.QUANTITIES)
    assert set(comparison.quantity) == set(paper_tables.QUANTITIES)
    assert comparison[["ours", "paper"]].map(math.isfinite).all().all()
    off = comparison[comparison.abs_diff > 1e-9]
    assert off.empty, off.to_string()


@pytest.mark.shared_data
def test_the_authors_other_tables_agree_with_their_main_table(release_dir, main_table):
    keys = ["model", "method"]
    per_model = paper_tables.load_model_tables(release_dir)
    pd.testing.assert_frame_equal(
        per_model.sort_values(keys, ignore_index=True), main_table.sort_values(keys, ignore_index=True)
    )
    for quantity in ("r2", "mse"):
        wide = load_wide_table(release_dir, quantity)
        merged = wide.merge(main_table, on=keys, suffixes=("", "_main"), validate="one_to_one")
        assert len(wide) == len(merged) == 72
        assert (merged[quantity] == merged[f"{quantity}_main"]).all()


@pytest.mark.shared_data
def test_fit_compare_paper_prints_the_largest_difference_per_quantity(release_dir, run_cli, tmp_path):
    code, out, err = run_cli(
        "fit", "--release", release_dir, "--models", "pythia-12b", "--out", tmp_path, "--compare-paper"
    )
    assert code == 0, err
    assert "over 3 (model, method) rows of" in out
    lines = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.startswith("  ")}
    assert set(lines) == set(paper_tables.QUANTITIES)
    assert max(lines.values()) < 1e-9


# --------------------------------------------------------------------------- the headline claim


def _fits(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"model": list(values), "method": "SMI", "r2": list(values.values())})


def test_check_headline_applies_above_and_about_claims_to_the_models_they_cover():
    models = pd.DataFrame({"name": ["a", "b", "c"], "parameters": [5e8, 2e9, 7e9]})
    claims = (
        paper_tables.HeadlineClaim("named", 0.8, ("b", "c")),
        paper_tables.HeadlineClaim("over 1B", 0.7, min_parameters=1e9),
        paper_tables.HeadlineClaim("about", 0.7, min_parameters=1e9, approximate=True),
    )
    table = paper_tables.check_headline(claims, {"fit": _fits({"a": 0.1, "b": 0.79, "c": 0.9})}, models)
    assert table["models"].tolist() == [2, 2, 2]
    assert table["holds"].tolist() == [False, True, False]  # 0.79 is not above 0.8; the median 0.845 is not about 0.7
    assert table.loc[0, "lowest"] == 0.79 and table.loc[0, "highest"] == 0.9
    table = paper_tables.check_headline(claims, {"fit": _fits({"a": 0.1, "b": 0.78, "c": 0.7})}, models)
    # 0.7 is above neither 0.7 nor 0.8; the median 0.74 lies within 0.05 of 0.7
    assert table["holds"].tolist() == [False, False, True]


def test_check_headline_names_a_model_that_is_missing():
    models = pd.DataFrame({"name": ["a", "b"], "parameters": [5e8, 2e9]})
    claim = paper_tables.HeadlineClaim("v", 0.8, ("b", "c"))
    with pytest.raises(SmiError, match="lacks c"):
        paper_tables.check_headline([claim], {"f": _fits({"b": 0.9})}, models)
    with pytest.raises(SmiError, match="lacks b"):
        paper_tables.check_headline([paper_tables.HeadlineClaim("v", 0.8, ("b",))], {"f": _fits({"a": 0.9})}, models)


def test_the_headline_models_are_the_releases_1b_to_13b_models():
    models = formats.load_models().set_index("name")
    assert [models.loc[m, "parameters"] for m in paper_tables.HEADLINE_MODELS] == [1.1e9, 1.6e9, 7e9, 13e9]
