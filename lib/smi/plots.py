"""Figure helpers shared by the notebooks: one look, saved as PNG and PDF.

Only matplotlib's bundled DejaVu fonts are used, so nothing needs installing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() == "agg" else None
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from smi.files import atomic_output  # noqa: E402

# --------------------------------------------------------------------------- notebooks 01-03


def with_size(label: str, n: int) -> str:
    """A group label with its size: ``"not together (n = 12,058)"``.

    Parameters
    ----------
    label : str
        The group's label.
    n : int
        Its size.

    Returns
    -------
    str
        The label with its size.
    """
    return f"{label} (n = {n:,})"


def parameter_label(parameters: float) -> str:
    """A parameter count as people write it: 14M, 1.1B, 176B.

    Parameters
    ----------
    parameters : float
        A raw parameter count.

    Returns
    -------
    str
        The short label.
    """
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if parameters >= scale:
            value = parameters / scale
            return f"{value:.0f}{suffix}" if value >= 10 or value == int(value) else f"{value:.1f}{suffix}"
    return f"{parameters:.0f}"


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


SERIES_ORDER = ["BLOOM", "GPT-Neo", "Pythia", "TinyLlama", "ours"]
METHOD_COLORS = {"CO-OCCUR": "#4C72B0", "MI": "#DD8452", "SMI": "#55A868"}


def use_style() -> None:
    """Seaborn's whitegrid look with labels large enough for slides."""
    sns.set_theme(style="whitegrid", context="notebook", font="DejaVu Sans")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight", "pdf.fonttype": 42})


def save_figure(fig: plt.Figure, name: str, figures_dir: Path | str) -> list[Path]:
    """Save ``fig`` as ``<figures_dir>/<name>.png`` and ``.pdf``; return both paths.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        The file name without suffix.
    figures_dir : Path or str
        The output folder (created when missing).

    Returns
    -------
    list of Path
        The PNG and the PDF.
    """
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = [figures_dir / f"{name}.png", figures_dir / f"{name}.pdf"]
    for path in paths:
        with atomic_output(path) as temporary:  # a link at the path is replaced, never written through
            fig.savefig(temporary, format=path.suffix[1:])
    return paths


#: Labels for release names that do not say the model's size.
SIZE_LABELS = {"bloom": "bloom-176b"}


def short_model_name(name: str) -> str:
    """A model name short enough for an axis label that still says its size.

    Drops TinyLlama's checkpoint suffix and names BLOOM's largest model with its size
    (the release calls it ``bloom``).

    Parameters
    ----------
    name : str
        A model name.

    Returns
    -------
    str
        The short name.
    """
    return SIZE_LABELS.get(name, name.split("-intermediate")[0])


def safe_name(text: str) -> str:
    """A file-name-safe version of a model or method name (``CO-OCCUR`` → ``co-occur``).

    Parameters
    ----------
    text : str
        A model or method name.

    Returns
    -------
    str
        Lower-case text with only letters, digits, ``-``, ``_`` and ``.``.
    """
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in text).lower()


def plot_bucketed_fit(ax, buckets, fit, method: str, title: str | None = None) -> None:
    """Bucket means (marker area ∝ facts in the bucket), the fitted line, and R²/MSE in the corner.

    ``buckets`` is :func:`smi.regression.bucket_means` output (x, mean_acc, n_facts);
    ``fit`` a :class:`smi.regression.BucketedFit`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    buckets : pandas.DataFrame
        The bucket means.
    fit : BucketedFit
        The fitted line.
    method : str
        The predictor, for the x label.
    title : str or None
        The panel's title.
    """
    import numpy as np

    color = METHOD_COLORS.get(method, "#4C72B0")
    sizes = 10 + 90 * np.sqrt(buckets["n_facts"] / buckets["n_facts"].max())
    ax.scatter(buckets["x"], buckets["mean_acc"], s=sizes, color=color, alpha=0.7, edgecolor="white", linewidth=0.5)
    line_x = np.linspace(0, 1, 50)
    ax.plot(line_x, fit.intercept + fit.slope * line_x, color="black", linewidth=1.5)
    ax.text(
        0.03,
        0.97,
        f"$R^2$ = {fit.r2:.3f}\nMSE = {fit.mse:.3f}",
        transform=ax.transAxes,
        va="top",
        fontsize=10,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel(f"normalised {method}")
    ax.set_ylabel("mean accuracy of the bucket")
    if title:
        ax.set_title(title)


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


# ---------------------------------------------------------------- notebooks 04–06: fits, size trends, held-out results

#: Display names of the release's corpora (the models table spells them in lower case).
CORPUS_LABELS = {"pile": "The Pile", "roots": "ROOTS", "slimpajama": "SlimPajama", "ours": "the authors' corpus"}
#: Legend text for the facts whose answer is written in the subject's name (notebook 01).
WITHOUT_ANSWER_IN_SUBJECT = "without the answer-in-subject facts"
ALL_FACTS_AS_IN_PAPER = "all facts, as in the paper"


def corpus_label(corpus: str) -> str:
    """A corpus name for a reader (``pile`` → ``The Pile``); unknown names are returned unchanged.

    Parameters
    ----------
    corpus : str
        A corpus name.

    Returns
    -------
    str
        Its label.
    """
    return CORPUS_LABELS.get(corpus, corpus)


def series_colors() -> dict[str, tuple]:
    """One fixed colour per model series, the same in every figure.

    Returns
    -------
    dict of str to tuple
        An RGB colour per series.
    """
    return dict(zip(SERIES_ORDER, sns.color_palette("deep", len(SERIES_ORDER))))


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
