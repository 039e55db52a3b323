"""Figures of counts (notebooks 01 and 02): count axes, bubbles of count pairs, rank agreement of corpora."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from smi.plots.style import with_size

__all__ = ["count_ticks", "plot_count_pairs", "plot_rank_agreement"]


def count_ticks(axis, largest: float) -> None:
    """Label an axis drawn in log2(1 + count) with the counts themselves (0, 1, 10, 100, 1k, …).

    ``axis`` is ``ax.xaxis`` or ``ax.yaxis``; ``largest`` the largest count shown.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        The axis.
    largest : float
        The largest count shown.
    """
    import numpy as np

    steps = [0, 1, 2, 5]
    decade = 10
    while decade <= max(largest, 1) * 1.01:
        steps += [decade, 2 * decade, 5 * decade] if largest < 200 else [decade]
        decade *= 10
    steps = [v for v in steps if v <= max(largest, 1) * 1.01]
    if largest >= 200:  # on a long axis 0 and 1 would touch: keep 0 (facts never counted) and the decades
        steps = [v for v in steps if v == 0 or v >= 10]
    labels = [f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}" for v in steps]
    axis.set_ticks(np.log2(1 + np.asarray(steps, dtype=float)), labels)


def plot_count_pairs(
    ax, x, y, groups, colors: dict[str, str], order: list[str] | None = None, scale: float = 12.0
) -> None:
    """Bubble plot of integer count pairs: one marker per distinct (x, y, group), area ∝ facts there.

    Counts pile up on a few integer points, so a plain scatter hides how many facts
    sit on each; here the marker's area grows with the number of facts, and one legend
    gives each group's colour and size and a key of marker sizes. ``x``, ``y`` are
    counts, drawn at log2(1 + count) and labelled with the counts; ``groups`` a label
    per fact, drawn in ``order``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    x, y : array-like of int
        Each fact's two counts.
    groups : array-like of str
        Each fact's group.
    colors : dict of str to str
        The colour of each group.
    order : list of str or None
        The groups in drawing and legend order; their order of appearance when None.
    scale : float
        Marker area per fact.
    """
    import numpy as np
    import pandas as pd
    from matplotlib.lines import Line2D

    frame = pd.DataFrame({"x": np.asarray(x), "y": np.asarray(y), "group": np.asarray(groups)})
    order = [g for g in (order or list(pd.unique(frame["group"]))) if (frame["group"] == g).any()]
    handles = []
    for group in order:
        members = frame[frame["group"] == group]
        piles = members.groupby(["x", "y"]).size().rename("facts").reset_index()
        ax.scatter(
            np.log2(1 + piles["x"]),
            np.log2(1 + piles["y"]),
            s=scale * piles["facts"] ** 0.75 + 6,
            color=colors[group],
            alpha=0.6,
            edgecolor="white",
            linewidth=0.5,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color=colors[group],
                alpha=0.6,
                markersize=8,
                label=with_size(str(group), len(members)),
            )
        )
    for facts in (1, 10, 100):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                color="#BBBBBB",
                markersize=np.sqrt(scale * facts**0.75 + 6),
                label=f"{facts} fact{'s' if facts > 1 else ''} on a point",
            )
        )
    ax.legend(handles=handles, loc="upper left", fontsize=9, labelspacing=0.9, borderpad=0.8)
    count_ticks(ax.xaxis, frame["x"].max())
    count_ticks(ax.yaxis, frame["y"].max())


def plot_rank_agreement(matrices: dict[str, object], vmin: float | None = None) -> plt.Figure:
    """One heatmap of pairwise Spearman ρ per count (titles = ``matrices`` keys), one shared colour scale.

    The colour scale starts at the smallest off-diagonal ρ (rounded down to 0.05) so
    that differences between 0.85 and 0.99 stay visible; corpus names are written
    once, on the left panel, and under every panel.

    Parameters
    ----------
    matrices : dict of str to pandas.DataFrame
        A corpus × corpus matrix of ρ per count.
    vmin : float or None
        The bottom of the colour scale; derived from the data when None.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    import numpy as np

    if vmin is None:
        lowest = min(
            float(np.nanmin(np.where(np.eye(len(m), dtype=bool), np.nan, np.asarray(m, dtype=float))))
            for m in matrices.values()
        )
        vmin = np.floor(lowest * 20) / 20
    fig, axes = plt.subplots(
        1, len(matrices), figsize=(4.2 * len(matrices) + 1.2, 4.6), sharey=True, gridspec_kw={"wspace": 0.08}
    )
    axes = np.atleast_1d(axes)
    colorbar_ax = fig.add_axes([0.93, 0.25, 0.012, 0.6])
    for position, (ax, (title, matrix)) in enumerate(zip(axes, matrices.items())):
        sns.heatmap(
            matrix,
            annot=True,
            fmt=".2f",
            vmin=vmin,
            vmax=1,
            cmap="viridis",
            ax=ax,
            square=True,
            cbar=position == 0,
            cbar_ax=colorbar_ax if position == 0 else None,
            cbar_kws={"label": "Spearman $\\rho$"},
            annot_kws={"fontsize": 10},
        )
        ax.set_title(title)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", rotation=35)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        if position:
            ax.tick_params(axis="y", left=False, labelleft=False)
    fig.subplots_adjust(left=0.12, right=0.91, bottom=0.25, top=0.85)
    return fig
