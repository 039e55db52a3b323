"""Figures of the bucketed fits (notebook 04 and ``smi panels``): bucket means with their lines, and R² bars."""

from __future__ import annotations

import seaborn as sns

from smi.plots.style import ALL_FACTS_AS_IN_PAPER, WITHOUT_ANSWER_IN_SUBJECT, short_model_name

__all__ = ["METHOD_COLORS", "fit_pair_legend_handles", "plot_fit_pair", "plot_r2_overview"]

#: One fixed colour per predictor of the paper.
METHOD_COLORS = {"CO-OCCUR": "#4C72B0", "MI": "#DD8452", "SMI": "#55A868"}


def plot_fit_pair(
    ax, buckets, fit, paper_buckets, paper_fit, method: str, title: str | None = None, fontsize: float = 8
) -> None:
    """One model and method, drawn twice: without the answer-in-subject facts and as in the paper.

    Filled markers are the bucket means without those facts (area ∝ facts in the bucket) with their
    line (solid); hollow grey markers and the dashed line are the same with all facts. The corner
    gives both R². ``buckets``/``paper_buckets`` are :func:`smi.regression.bucket_means` output,
    ``fit``/``paper_fit`` :class:`smi.regression.BucketedFit`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    buckets, paper_buckets : pandas.DataFrame
        Bucket means without the answer-in-subject facts and with all facts.
    fit, paper_fit : BucketedFit
        The two fitted lines.
    method : str
        The predictor, for the x label.
    title : str or None
        The panel's title.
    fontsize : float
        Size of the corner text.
    """
    import numpy as np

    color = METHOD_COLORS.get(method, "#4C72B0")
    largest = max(buckets["n_facts"].max(), paper_buckets["n_facts"].max())
    ax.scatter(
        paper_buckets["x"],
        paper_buckets["mean_acc"],
        s=6 + 60 * np.sqrt(paper_buckets["n_facts"] / largest),
        facecolor="none",
        edgecolor="#888888",
        linewidth=0.8,
        zorder=2,
    )
    ax.scatter(
        buckets["x"],
        buckets["mean_acc"],
        s=6 + 60 * np.sqrt(buckets["n_facts"] / largest),
        color=color,
        alpha=0.8,
        edgecolor="white",
        linewidth=0.4,
        zorder=3,
    )
    line_x = np.linspace(0, 1, 50)
    ax.plot(
        line_x, paper_fit.intercept + paper_fit.slope * line_x, color="#888888", linestyle="--", linewidth=1.2, zorder=4
    )
    ax.plot(line_x, fit.intercept + fit.slope * line_x, color="black", linewidth=1.5, zorder=5)
    ax.text(
        0.03,
        0.97,
        f"$R^2$ = {fit.r2:.3f}\nall facts: {paper_fit.r2:.3f}",
        transform=ax.transAxes,
        va="top",
        fontsize=fontsize,
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
        zorder=6,
    )
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel(f"normalised {method}")
    ax.set_ylabel("mean accuracy of the bucket")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)


def fit_pair_legend_handles() -> list:
    """Legend entries explaining :func:`plot_fit_pair`'s markers and lines (for a figure-level legend).

    Returns
    -------
    list of matplotlib.artist.Artist
        Labelled artists.
    """
    from matplotlib.lines import Line2D

    return [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            color="#555555",
            markeredgecolor="white",
            label=f"bucket mean {WITHOUT_ANSWER_IN_SUBJECT} (area ∝ facts; colour = predictor)",
        ),
        Line2D([], [], color="black", linewidth=1.5, label="line fitted to them ($R^2$ in the corner)"),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor="none",
            markeredgecolor="#888888",
            label=f"bucket mean, {ALL_FACTS_AS_IN_PAPER}",
        ),
        Line2D([], [], color="#888888", linestyle="--", linewidth=1.2, label="the paper's line (all facts)"),
    ]


def plot_r2_overview(ax, bucketed, model_order: list[str]) -> None:
    """Grouped bars: bucketed R² of CO-OCCUR, MI and SMI for every model, in ``model_order``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    bucketed : pandas.DataFrame
        The bucketed table of :func:`smi.regression.fit_all`.
    model_order : list of str
        The models, left to right.
    """
    data = bucketed.assign(model=bucketed["model"].map(short_model_name))
    sns.barplot(
        data=data,
        x="model",
        y="r2",
        hue="method",
        order=[short_model_name(m) for m in model_order],
        hue_order=list(METHOD_COLORS),
        palette=METHOD_COLORS,
        ax=ax,
    )
    ax.set_xlabel("")
    ax.set_ylabel("bucketed $R^2$")
    ax.set_ylim(0, 1.1)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.tick_params(axis="x", rotation=60)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.legend(title=None, loc="upper center", ncol=3, frameon=True)
