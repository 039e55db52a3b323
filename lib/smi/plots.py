"""Figure helpers shared by the notebooks: one look, saved as PNG and PDF.

Only matplotlib's bundled DejaVu fonts are used, so nothing needs installing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() == "agg" else None
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402


# --------------------------------------------------------------------------- notebooks 01-03


def with_size(label: str, n: int) -> str:
    """A group label with its size: ``"not together (n = 12,058)"``."""
    return f"{label} (n = {n:,})"


def parameter_label(parameters: float) -> str:
    """A parameter count as people write it: 14M, 1.1B, 176B."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if parameters >= scale:
            value = parameters / scale
            return f"{value:.0f}{suffix}" if value >= 10 or value == int(value) else f"{value:.1f}{suffix}"
    return f"{parameters:.0f}"


def count_ticks(axis, largest: float) -> None:
    """Label an axis drawn in log2(1 + count) with the counts themselves (0, 1, 10, 100, 1k, …).

    ``axis`` is ``ax.xaxis`` or ``ax.yaxis``; ``largest`` the largest count shown.
    """
    import numpy as np

    steps = [0, 1, 2, 5]
    decade = 10
    while decade <= max(largest, 1) * 1.01:
        steps += [decade, 2 * decade, 5 * decade] if largest < 200 else [decade]
        decade *= 10
    steps = [v for v in steps if v <= max(largest, 1) * 1.01]
    if largest >= 200:  # on a long axis 0 and 1 would touch: keep 1 and the decades
        steps = [v for v in steps if v == 1 or v >= 10]
    labels = [f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}" for v in steps]
    axis.set_ticks(np.log2(1 + np.asarray(steps, dtype=float)), labels)


def plot_count_pairs(ax, x, y, groups, colors: dict[str, str], order: list[str] | None = None,
                     scale: float = 12.0) -> None:
    """Bubble plot of integer count pairs: one marker per distinct (x, y, group), area ∝ facts there.

    Counts pile up on a few integer points, so a plain scatter hides how many facts
    sit on each; here the marker's area grows with the number of facts, and one legend
    gives each group's colour and size and a key of marker sizes. ``x``, ``y`` are
    counts, drawn at log2(1 + count) and labelled with the counts; ``groups`` a label
    per fact, drawn in ``order``.
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
        ax.scatter(np.log2(1 + piles["x"]), np.log2(1 + piles["y"]), s=scale * piles["facts"] ** 0.75 + 6,
                   color=colors[group], alpha=0.6, edgecolor="white", linewidth=0.5)
        handles.append(Line2D([], [], marker="o", linestyle="", color=colors[group], alpha=0.6, markersize=8,
                              label=with_size(str(group), len(members))))
    for facts in (1, 10, 100):
        handles.append(Line2D([], [], marker="o", linestyle="", color="#BBBBBB", markersize=np.sqrt(scale * facts ** 0.75 + 6),
                              label=f"{facts} fact{'s' if facts > 1 else ''} on a point"))
    ax.legend(handles=handles, loc="upper left", fontsize=9, labelspacing=0.9, borderpad=0.8)
    count_ticks(ax.xaxis, frame["x"].max())
    count_ticks(ax.yaxis, frame["y"].max())


def plot_rank_agreement(matrices: dict[str, "object"], vmin: float | None = None) -> plt.Figure:
    """One heatmap of pairwise Spearman ρ per count (titles = ``matrices`` keys), one shared colour scale.

    The colour scale starts at the smallest off-diagonal ρ (rounded down to 0.05) so
    that differences between 0.85 and 0.99 stay visible; corpus names are written
    once, on the left panel, and under every panel.
    """
    import numpy as np

    if vmin is None:
        lowest = min(float(np.nanmin(np.where(np.eye(len(m), dtype=bool), np.nan, np.asarray(m, dtype=float))))
                     for m in matrices.values())
        vmin = np.floor(lowest * 20) / 20
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices) + 1.2, 4.6), sharey=True,
                             gridspec_kw={"wspace": 0.08})
    axes = np.atleast_1d(axes)
    colorbar_ax = fig.add_axes([0.93, 0.25, 0.012, 0.6])
    for position, (ax, (title, matrix)) in enumerate(zip(axes, matrices.items())):
        sns.heatmap(matrix, annot=True, fmt=".2f", vmin=vmin, vmax=1, cmap="viridis", ax=ax, square=True,
                    cbar=position == 0, cbar_ax=colorbar_ax if position == 0 else None,
                    cbar_kws={"label": "Spearman $\\rho$"}, annot_kws={"fontsize": 10})
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
    """Save ``fig`` as ``<figures_dir>/<name>.png`` and ``.pdf``; return both paths."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = [figures_dir / f"{name}.png", figures_dir / f"{name}.pdf"]
    for path in paths:
        fig.savefig(path)
    return paths


def short_model_name(name: str) -> str:
    """A model name short enough for an axis label (drops TinyLlama's checkpoint suffix)."""
    return name.split("-intermediate")[0]


def safe_name(text: str) -> str:
    """A file-name-safe version of a model or method name (``CO-OCCUR`` → ``co-occur``)."""
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in text).lower()


def plot_bucketed_fit(ax, buckets, fit, method: str, title: str | None = None) -> None:
    """Bucket means (marker area ∝ facts in the bucket), the fitted line, and R²/MSE in the corner.

    ``buckets`` is :func:`smi.regression.bucket_means` output (x, mean_acc, n_facts);
    ``fit`` a :class:`smi.regression.BucketedFit`.
    """
    import numpy as np

    color = METHOD_COLORS.get(method, "#4C72B0")
    sizes = 10 + 90 * np.sqrt(buckets["n_facts"] / buckets["n_facts"].max())
    ax.scatter(buckets["x"], buckets["mean_acc"], s=sizes, color=color, alpha=0.7, edgecolor="white", linewidth=0.5)
    line_x = np.linspace(0, 1, 50)
    ax.plot(line_x, fit.intercept + fit.slope * line_x, color="black", linewidth=1.5)
    ax.text(0.03, 0.97, f"$R^2$ = {fit.r2:.3f}\nMSE = {fit.mse:.3f}", transform=ax.transAxes, va="top", fontsize=10,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel(f"normalised {method}")
    ax.set_ylabel("mean accuracy of the bucket")
    if title:
        ax.set_title(title)


def plot_r2_overview(ax, bucketed, model_order: list[str]) -> None:
    """Grouped bars: bucketed R² of CO-OCCUR, MI and SMI for every model, in ``model_order``."""
    data = bucketed.assign(model=bucketed["model"].map(short_model_name))
    sns.barplot(data=data, x="model", y="r2", hue="method", order=[short_model_name(m) for m in model_order],
                hue_order=list(METHOD_COLORS), palette=METHOD_COLORS, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("bucketed $R^2$")
    ax.set_ylim(0, 1.1)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.tick_params(axis="x", rotation=60)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.legend(title=None, loc="upper center", ncol=3, frameon=True)
