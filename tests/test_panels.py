"""Notebook 04's per-model panels and the figure helpers of notebooks 04–06."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smi import cli, metrics, panels, plots


def synthetic_predictors(models, seed=0):
    rng = np.random.default_rng(seed)
    frames = {}
    for model in models:
        x = np.round(rng.uniform(0, 1, 300), 1)
        acc = np.clip(0.05 + 0.5 * x + rng.normal(0, 0.1, x.size), 0, 1)
        frames[model] = pd.DataFrame({"acc": acc, **{method: x for method in metrics.METHODS}})
    return frames


def test_showcase_models_prefers_the_teaching_selection_then_fills_up():
    names = ["gpt-neo-125m", "pythia-12b", "bloom", "ours-1.6b"]
    assert panels.showcase_models(names) == ["pythia-12b", "bloom", "gpt-neo-125m", "ours-1.6b"]
    assert panels.showcase_models(names, count=2) == ["pythia-12b", "bloom"]
    assert panels.showcase_models(["gpt-j-6b"]) == ["gpt-j-6b"]


def test_write_fit_panels_writes_one_panel_per_model_and_method_and_the_grid(tmp_path):
    with_all = synthetic_predictors(["model-a", "model-b"])
    without = {name: frame.iloc[:250] for name, frame in with_all.items()}
    paths = panels.write_fit_panels(with_all, without, tmp_path)
    stems = sorted({p.stem for p in paths})
    panels_expected = [
        f"04_fit_{model}_{plots.safe_name(method)}" for model in ("model-a", "model-b") for method in metrics.METHODS
    ]
    assert stems == sorted([*panels_expected, "04_fits_grid_all"])
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert {p.suffix for p in paths} == {".png", ".pdf"}


def test_panels_command_reports_a_bad_release_in_one_line(tmp_path, capsys):
    code = cli.main(["panels", "--release", str(tmp_path / "missing"), "--out", str(tmp_path / "figures")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("smi: error: ") and err.count("\n") == 1
    assert not (tmp_path / "figures").exists()


def test_panels_is_a_subcommand_of_smi_only():
    args = cli.build_parser().parse_args(["panels"])
    assert (args.out, args.release, args.bucket_width) == (Path("figures"), None, metrics.DEFAULT_BUCKET_WIDTH)
    assert not hasattr(panels, "main")


def test_heldout_r2_labels_each_clipped_row_once():
    import matplotlib.pyplot as plt

    rows = []
    for model, values in {"tiny": [-80.9, -21.6, -3.0], "mid": [-0.9, 0.1, 0.2], "big": [0.1, 0.3, 0.5]}.items():
        for predictor, r2 in zip(["smi", "gbm", "best"], values):
            rows.append({"model": model, "predictor": predictor, "r2": r2, "r2_lo": r2 - 0.05, "r2_hi": r2 + 0.05})
    fig, ax = plt.subplots()
    plots.plot_heldout_r2(
        ax, pd.DataFrame(rows), ["tiny", "mid", "big"], ["smi", "gbm", "best"], left_edge=-0.5, threshold=0.35
    )
    labels = [text.get_text() for text in ax.texts]
    plt.close(fig)
    assert labels == ["◄ smi -80.9, gbm -21.6, best -3.0", "◄ smi -0.9"]
    assert ax.get_xlim()[1] == pytest.approx(0.65)  # the tenth above 0.55 + 0.05, plus 0.05: not 1, not 0.75


def test_mean_accuracy_figure_names_corpora_for_readers():
    import matplotlib.pyplot as plt

    rows = pd.DataFrame(
        {
            "model": ["pythia-12b", "bloom"],
            "corpus": ["pile", "roots"],
            "mean_acc": [0.12, 0.16],
            "mean_acc_lo": [0.118, 0.158],
            "mean_acc_hi": [0.122, 0.162],
            "mean_pred": [0.11, 0.12],
            "mean_pred_lo": [0.108, 0.118],
            "mean_pred_hi": [0.112, 0.122],
        }
    )
    fig, ax = plt.subplots()
    plots.plot_predicted_mean_accuracy(ax, rows, label_models=["bloom"])
    labels = ax.get_legend_handles_labels()[1]
    names = [text.get_text() for text in ax.texts]
    plt.close(fig)
    assert "held out: The Pile (1 model)" in labels and "held out: ROOTS (1 model)" in labels
    assert names == ["bloom-176b"]  # the release's "bloom", named with its size


def test_series_order_groups_by_series_then_size():
    models = pd.DataFrame(
        {
            "name": ["p-big", "b-small", "p-small", "x"],
            "series": ["Pythia", "BLOOM", "Pythia", "Other"],
            "parameters": [10, 5, 1, 3],
        }
    )
    assert plots.models_in_series_order(models) == ["b-small", "p-small", "p-big", "x"]


def test_short_model_names_say_the_size():
    assert plots.short_model_name("bloom") == "bloom-176b"
    assert plots.short_model_name("TinyLlama-1.1B-intermediate-step-480k-1T") == "TinyLlama-1.1B"
    assert plots.short_model_name("pythia-12b") == "pythia-12b"
