"""Size-trend checks behind the notebooks' sentences about model size."""

import pandas as pd
import pytest

from smi import formats, regression, trends
from smi.errors import SmiError


def frame(rows):
    return pd.DataFrame(rows, columns=["model", "series", "parameters", "value"])


def falling_steps(
    frame: pd.DataFrame, value: str, series: str = "series", size: str = "parameters", name: str = "model"
) -> list[str]:
    """The falling steps of :func:`smi.trends.series_steps` as ``"smaller → larger"`` texts (empty when none).

    Parameters
    ----------
    frame, value, series, size, name
        As for :func:`smi.trends.series_steps`.

    Returns
    -------
    list of str
        One text per falling step.

    Raises
    ------
    SmiError
        When a column is missing.
    """
    steps = trends.series_steps(frame, value, series, size, name)
    return [f"{row.smaller} → {row.larger}" for row in steps[steps["change"] < 0].itertuples()]


def test_steps_follow_size_not_row_order_and_falls_are_named():
    table = frame(
        [
            ("b-big", "B", 30, 0.2),
            ("a-small", "A", 1, 0.1),
            ("b-small", "B", 10, 0.3),
            ("a-big", "A", 5, 0.4),
            ("a-mid", "A", 2, 0.2),
            ("c-only", "C", 7, 0.9),
        ]
    )
    steps = trends.series_steps(table, "value")
    assert list(zip(steps["smaller"], steps["larger"])) == [
        ("a-small", "a-mid"),
        ("a-mid", "a-big"),
        ("b-small", "b-big"),
    ]
    trend = trends.within_series_trend(table, "value").set_index("series")
    assert "C" not in trend.index  # a series of one model has no step
    assert (trend.loc["A", "rises"], trend.loc["A", "falls"], trend.loc["A", "spearman"]) == (2, 0, 1.0)
    assert (trend.loc["B", "rises"], trend.loc["B", "falls"]) == (0, 1)
    assert trend.loc["B", "where it falls"] == "b-small → b-big (-0.100)"
    assert falling_steps(table, "value") == ["b-small → b-big"]
    sentence = trends.trend_sentence(trends.within_series_trend(table, "value"), "accuracy")
    assert sentence == (
        "Accuracy rises at 2 of 3 steps to a larger model of the same series; it falls at b-small → b-big (-0.100)"
    )


def test_sentence_for_a_steady_rise_and_for_nothing_to_compare():
    rising = frame([("x1", "X", 1, 0.1), ("x2", "X", 2, 0.2), ("x3", "X", 3, 0.3)])
    assert (
        trends.trend_sentence(trends.within_series_trend(rising, "value"), "accuracy")
        == "Accuracy rises at every one of the 2 steps to a larger model of the same series"
    )
    single = frame([("x1", "X", 1, 0.1), ("y1", "Y", 2, 0.2)])
    sentence = trends.trend_sentence(trends.within_series_trend(single, "value"), "accuracy")
    assert sentence.startswith("No series has two models")


def test_missing_column_is_named():
    with pytest.raises(SmiError, match="no column 'upper_bound'"):
        trends.series_steps(frame([("x1", "X", 1, 0.1)]), "upper_bound")


@pytest.mark.shared_data
def test_release_upper_bound_falls_where_notebook_04_says(release_dir):
    """With all facts the SMI upper bound falls at three steps; without the answer-in-subject facts, at two."""
    models = formats.load_models()
    models = models[models["series"].isin(["BLOOM", "GPT-Neo", "ours"])]

    def upper_bounds(drop):
        bucketed, _ = regression.fit_release(release_dir, models, answer_in_subject="drop" if drop else "keep")
        smi = bucketed.query("method == 'SMI'")[["model", "upper_bound", "mean_acc"]]
        return smi.merge(models.rename(columns={"name": "model"})[["model", "series", "parameters"]], on="model")

    with_all, without = upper_bounds(False), upper_bounds(True)
    assert falling_steps(with_all, "upper_bound") == [
        "bloom-7b1 → bloom",
        "gpt-j-6b → gpt-neox-20b",
        "ours-7b → ours-13b",
    ]
    assert falling_steps(without, "upper_bound") == ["gpt-j-6b → gpt-neox-20b", "ours-7b → ours-13b"]
    assert falling_steps(without, "mean_acc") == ["gpt-j-6b → gpt-neox-20b", "ours-7b → ours-13b"]
