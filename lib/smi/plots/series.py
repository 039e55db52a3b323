"""Model series (notebooks 04 to 06): one colour and order per series, and a quantity against model size."""

from __future__ import annotations

import seaborn as sns

from smi.plots.style import WITHOUT_ANSWER_IN_SUBJECT

__all__ = ["SERIES_ORDER", "add_series_legend", "models_in_series_order", "plot_series_trend", "series_colors"]

#: The model series, in the order figures and legends list them.
SERIES_ORDER = ["BLOOM", "GPT-Neo", "Pythia", "TinyLlama", "ours"]


def series_colors() -> dict[str, tuple]:
    """One fixed colour per model series, the same in every figure.

    Returns
    -------
    dict of str to tuple
        An RGB colour per series.
    """
    return dict(zip(SERIES_ORDER, sns.color_palette("deep", len(SERIES_ORDER))))


def models_in_series_order(models) -> list[str]:
    """Model names of a models table grouped by series (in :data:`SERIES_ORDER`) and by size within a series.

    Parameters
    ----------
    models : pandas.DataFrame
        The models table (name, series, parameters).

    Returns
    -------
    list of str
        The names.
    """
    rank = {name: i for i, name in enumerate(SERIES_ORDER)}
    ranked = models.assign(_rank=models["series"].map(lambda s: rank.get(s, len(rank))))
    ordered = ranked.sort_values(["_rank", "parameters"], kind="stable")
    return list(ordered["name"])


def plot_series_trend(
    ax, frame, y: str, paper_y: str | None = None, x: str = "parameters", series: str = "series"
) -> None:
    """``y`` against model size (log axis), one solid line per series; ``paper_y`` the same, dashed and faded.

    No legend is drawn: use :func:`add_series_legend` once per figure.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    frame : pandas.DataFrame
        One row per model.
    y : str
        The column drawn.
    paper_y : str or None
        A column drawn dashed, e.g. the paper's value.
    x, series : str
        The columns holding each model's size and series.
    """
    colors = series_colors()
    for name in [s for s in SERIES_ORDER if s in set(frame[series])] + sorted(set(frame[series]) - set(SERIES_ORDER)):
        rows = frame[frame[series] == name].sort_values(x)
        color = colors.get(name, "grey")
        ax.plot(rows[x], rows[y], marker="o", markersize=5, color=color, linewidth=1.8)
        if paper_y is not None:
            ax.plot(
                rows[x], rows[paper_y], marker="o", markersize=3, color=color, linewidth=1, linestyle="--", alpha=0.5
            )
    ax.set_xscale("log")
    ax.set_xlabel("parameters (log scale)")


def add_series_legend(
    target, frame, series: str = "series", paper_label: str | None = None, extra_handles=(), **kwargs
):
    """One legend for :func:`plot_series_trend` figures: each series with its number of models, and, with
    ``paper_label``, what the solid and dashed lines mean; ``extra_handles`` (artists with labels) are
    appended. ``target`` is an Axes or a Figure.

    Parameters
    ----------
    target : matplotlib.axes.Axes or matplotlib.figure.Figure
        Where the legend goes.
    frame : pandas.DataFrame
        One row per model.
    series : str
        The column holding each model's series.
    paper_label : str or None
        What the dashed lines show; no line key when None.
    extra_handles : sequence of matplotlib.artist.Artist
        More labelled artists.
    **kwargs
        Passed to ``legend``.

    Returns
    -------
    matplotlib.legend.Legend
        The legend.
    """
    from matplotlib.lines import Line2D

    colors = series_colors()
    counts = frame[series].value_counts()
    names = [s for s in SERIES_ORDER if s in counts.index] + sorted(set(counts.index) - set(SERIES_ORDER))
    handles = [
        Line2D(
            [],
            [],
            color=colors.get(name, "grey"),
            marker="o",
            linewidth=1.8,
            label=f"{name} ({counts[name]} model{'s' if counts[name] > 1 else ''})",
        )
        for name in names
    ]
    if paper_label is not None:
        handles += [
            Line2D([], [], color="black", linewidth=1.8, label=WITHOUT_ANSWER_IN_SUBJECT),
            Line2D([], [], color="black", linewidth=1, linestyle="--", alpha=0.5, label=paper_label),
        ]
    return target.legend(handles=handles + list(extra_handles), **kwargs)
