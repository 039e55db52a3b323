"""The paper's per-model figures: one panel per model and predictor, and a grid of them.

Each panel shows a model's bucket means and bucketed line twice — without the facts whose
answer is written in the subject's name (:func:`smi.release.answer_written_in_subject`) and with
all facts, as in the paper (:func:`smi.plots.plot_fit_pair`).

``smi panels [--release DIR] [--out figures] [--bucket-width 0.2]`` (:mod:`smi.commands.panels`,
``make panels``) writes the 72 panels ``04_fit_<model>_<method>.png/.pdf`` and the grid of all models
``04_fits_grid_all.png/.pdf``; notebook 04 shows a selection (:func:`fit_grid_figure`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smi import metrics, plots, regression
from smi.errors import SmiError


def _pair(predictors: dict[str, pd.DataFrame], predictors_without: dict[str, pd.DataFrame], model: str, method: str):
    """(buckets, fit) without the answer-in-subject facts and (buckets, fit) with all facts."""
    if model not in predictors or model not in predictors_without:
        raise SmiError(f"no predictors for model '{model}'")
    result = []
    for frames in (predictors_without, predictors):
        frame = frames[model]
        x, acc = frame[method], frame["acc"]
        result.append((regression.bucket_means(x, acc), regression.bucketed_fit(x, acc)))
    return result


def fit_grid_figure(
    predictors: dict[str, pd.DataFrame],
    predictors_without: dict[str, pd.DataFrame],
    models: list[str],
    methods=metrics.METHODS,
    panel_size: tuple[float, float] = (3.4, 2.5),
    title: str | None = None,
):
    """A figure with one row per model of ``models`` and one column per method (:func:`smi.plots.plot_fit_pair`).

    ``predictors`` and ``predictors_without`` are :func:`smi.regression.release_predictors` output
    with all facts and with ``answer_in_subject="drop"``.

    Parameters
    ----------
    predictors, predictors_without : dict of str to pandas.DataFrame
        Predictors of each model with all facts and without the facts whose answer is in the subject.
    models : list of str
        The models, one row each.
    methods : sequence of str
        The methods, one column each.
    panel_size : tuple of float
        Width and height of one panel, in inches.
    title : str or None
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Raises
    ------
    SmiError
        When ``models`` is empty.
    """
    import matplotlib.pyplot as plt

    if not models:
        raise SmiError("fit_grid_figure: no model to draw")
    size = (panel_size[0] * len(methods), panel_size[1] * len(models) + 1.2)
    fig, axes = plt.subplots(len(models), len(methods), figsize=size, sharex=True, sharey=True, squeeze=False)
    for row, model in enumerate(models):
        for column, method in enumerate(methods):
            (buckets, fit), (paper_buckets, paper_fit) = _pair(predictors, predictors_without, model, method)
            ax = axes[row, column]
            plots.plot_fit_pair(
                ax, buckets, fit, paper_buckets, paper_fit, method, title=f"{plots.short_model_name(model)} · {method}"
            )
            ax.set_ylabel("")
            ax.label_outer()
    fig.supylabel("mean accuracy of the bucket")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.85 / fig.get_figheight()))
    height = fig.get_figheight()
    fig.suptitle(
        title or "Mean accuracy per bucket against each normalised predictor",
        fontsize=13,
        y=1 - 0.08 / height,
        va="top",
    )
    fig.legend(
        handles=plots.fit_pair_legend_handles(),
        loc="upper center",
        ncol=2,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.38 / height),
    )
    return fig


#: Models notebook 04 draws by default: the smallest and largest Pythia and one in between, BLOOM-7B1 and
#: BLOOM-176B (the one model scored without the prompt), and ours-7b (the highest accuracy).
SHOWCASE_MODELS = ("pythia-14m", "pythia-410m", "pythia-12b", "bloom-7b1", "bloom", "ours-7b")


def showcase_models(names: list[str], count: int = 6, preferred=SHOWCASE_MODELS) -> list[str]:
    """At most ``count`` of ``names`` to draw: those of ``preferred`` first (in its order), then the others in
    their given order.

    Parameters
    ----------
    names : list of str
        The models available.
    count : int
        How many to keep at most.
    preferred : sequence of str
        The models shown first when available.

    Returns
    -------
    list of str
        The models to draw.
    """
    chosen = [name for name in preferred if name in set(names)]
    chosen += [name for name in names if name not in chosen]
    return chosen[:count]


def write_fit_panels(
    predictors: dict[str, pd.DataFrame],
    predictors_without: dict[str, pd.DataFrame],
    figures_dir: Path | str,
    methods=metrics.METHODS,
) -> list[Path]:
    """Write one panel per model and method (``04_fit_<model>_<method>``) and the grid of every model
    (``04_fits_grid_all``), each as PNG and PDF, into ``figures_dir``; return the paths.

    Parameters
    ----------
    predictors, predictors_without : dict of str to pandas.DataFrame
        As for :func:`fit_grid_figure`.
    figures_dir : Path or str
        The output folder.
    methods : sequence of str
        The methods drawn.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    SmiError
        When a fit is impossible or a file cannot be written.
    """
    import matplotlib.pyplot as plt

    paths = []
    for model in predictors:
        for method in methods:
            (buckets, fit), (paper_buckets, paper_fit) = _pair(predictors, predictors_without, model, method)
            fig, ax = plt.subplots(figsize=(5.2, 4.4))
            plots.plot_fit_pair(
                ax,
                buckets,
                fit,
                paper_buckets,
                paper_fit,
                method,
                title=f"{model} · {method}: bucket means",
                fontsize=9,
            )
            fig.legend(handles=plots.fit_pair_legend_handles(), loc="lower center", ncol=1, fontsize=7, frameon=False)
            fig.tight_layout(rect=(0, 0.16, 1, 1))
            paths += plots.save_figure(fig, f"04_fit_{plots.safe_name(model)}_{plots.safe_name(method)}", figures_dir)
            plt.close(fig)
    fig = fit_grid_figure(predictors, predictors_without, list(predictors), methods)
    paths += plots.save_figure(fig, "04_fits_grid_all", figures_dir)
    plt.close(fig)
    return paths
