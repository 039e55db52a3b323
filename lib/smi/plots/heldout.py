"""Held-out predictions (notebook 06): per-fact R² with intervals, and predicted against measured mean accuracy."""

from __future__ import annotations

import seaborn as sns

from smi.plots.style import corpus_label, short_model_name

__all__ = ["plot_heldout_r2", "plot_predicted_mean_accuracy", "predictor_palette"]


def predictor_palette(predictors) -> dict:
    """A fixed colour per held-out predictor name.

    Parameters
    ----------
    predictors : iterable of str
        The predictor names.

    Returns
    -------
    dict of str to tuple
        A colour per name.
    """
    return dict(zip(predictors, sns.color_palette("deep", len(predictors))))


def plot_heldout_r2(
    ax, summary, order: list[str], predictors, left_edge: float = -0.5, threshold: float | None = None
) -> None:
    """Per-fact R² of each predictor on each held-out model, with the bootstrap interval.

    ``summary`` has columns model, predictor, r2, r2_lo, r2_hi (``smi evaluate``'s summary.csv).
    Values below ``left_edge`` are drawn as a left-pointing triangle at the edge, and each such
    model row gets one label listing them, right of the axes (leave room there); the axis ends
    just right of the largest upper bound.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    summary : pandas.DataFrame
        The rows described above.
    order : list of str
        The models, top to bottom.
    predictors : list of str
        The predictors drawn.
    left_edge : float
        The smallest R² drawn as a point.
    threshold : float or None
        Draw a vertical reference line there.
    """
    import numpy as np

    palette = predictor_palette(predictors)
    offsets = dict(zip(predictors, np.linspace(-0.27, 0.27, len(predictors))))
    positions = {model: i for i, model in enumerate(order)}
    for name in predictors:
        rows = summary[summary["predictor"] == name]
        y = rows["model"].map(positions).to_numpy() + offsets[name]
        r2, lo, hi = (rows[column].clip(lower=left_edge).to_numpy() for column in ("r2", "r2_lo", "r2_hi"))
        inside = rows["r2"].to_numpy() >= left_edge
        ax.errorbar(
            r2[inside],
            y[inside],
            xerr=[(r2 - lo)[inside], (hi - r2)[inside]],
            fmt="o",
            ms=4,
            color=palette[name],
            elinewidth=1.2,
            capsize=2,
            label=name,
        )
        ax.scatter(np.full((~inside).sum(), left_edge), y[~inside], marker="<", s=30, color=palette[name], zorder=3)
    clipped = summary[summary["r2"] < left_edge]
    for model, rows in clipped.groupby("model", sort=False):
        text = "◄ " + ", ".join(f"{p} {v:.1f}" for p, v in zip(rows["predictor"], rows["r2"]))
        ax.annotate(
            text, (1.01, positions[model]), xycoords=("axes fraction", "data"), ha="left", va="center", fontsize=8
        )
    # the next tenth above the largest upper bound plus 0.05 (rounded first: 0.6 * 10 must not become 7 tenths)
    right = float(np.ceil(round((summary["r2_hi"].max() + 0.05) * 10, 9)) / 10)
    ax.set_xlim(left_edge - 0.05, max(right, threshold or 0) + 0.05)
    if threshold is not None:
        ax.axvline(threshold, color="grey", linestyle="--", linewidth=1, label=f"$R^2$ = {threshold}")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.axvline(left_edge, color="#bbbbbb", linewidth=0.8, linestyle=":")
    ax.set_yticks(range(len(order)), [short_model_name(m) for m in order])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel(f"held-out per-fact $R^2$ (95 % bootstrap interval; ◄ = below {left_edge}, values right of the axes)")
    ax.set_ylabel("held-out model")


def plot_predicted_mean_accuracy(ax, rows, band: float = 0.02, label_models=()) -> None:
    """Predicted against measured mean accuracy per held-out model, coloured by held-out corpus.

    ``rows`` has model, corpus, mean_acc, mean_acc_lo/hi, mean_pred, mean_pred_lo/hi (one predictor's
    rows of summary.csv). Both 95 % intervals are drawn with caps; ``label_models`` are named.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    rows : pandas.DataFrame
        The rows described above.
    band : float
        Half-width of the shaded band around the diagonal.
    label_models : sequence of str
        Models to name on the plot.
    """
    import numpy as np

    top = float(rows[["mean_acc_hi", "mean_pred_hi"]].max().max()) + 0.03
    line = np.linspace(0, top, 10)
    ax.fill_between(line, line - band, line + band, color="grey", alpha=0.2, label=f"within ±{band}")
    ax.plot(line, line, color="grey", linewidth=1)
    for corpus, group in rows.groupby("corpus", sort=True):
        ax.errorbar(
            group["mean_acc"],
            group["mean_pred"],
            xerr=[group["mean_acc"] - group["mean_acc_lo"], group["mean_acc_hi"] - group["mean_acc"]],
            yerr=[group["mean_pred"] - group["mean_pred_lo"], group["mean_pred_hi"] - group["mean_pred"]],
            fmt="o",
            ms=5,
            capsize=3,
            elinewidth=1.2,
            label=f"held out: {corpus_label(corpus)} ({len(group)} model{'s' if len(group) > 1 else ''})",
        )
    for row in rows.itertuples():
        if row.model in set(label_models):
            ax.annotate(
                short_model_name(row.model),
                (row.mean_acc, row.mean_pred),
                fontsize=8,
                xytext=(4, -10),
                textcoords="offset points",
            )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("measured mean accuracy (95 % interval)")
    ax.set_ylabel("predicted mean accuracy (95 % interval)")
