"""The figure of each experiment (notebook 08 and ``smi lab experiment``), in the look of :mod:`smi.plots`."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from smi.plots.style import save_figure, use_style

__all__ = ["plot_capacity", "plot_diversity", "plot_experiment", "plot_forgetting", "plot_holdout"]


def _seed_band(group: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean, lowest and highest of ``y`` over seeds at each ``x``."""
    return group.groupby(x)[y].agg(["mean", "min", "max"]).reset_index()


def _plot_seed_range(axis, group: pd.DataFrame, x: str, y: str, x_scale: float = 1.0, **style) -> None:
    """The mean of ``y`` over seeds against ``x`` (times ``x_scale``), with bars from the lowest to the highest seed."""
    band = _seed_band(group, x, y)
    yerr = [band["mean"] - band["min"], band["max"] - band["mean"]]
    axis.errorbar(x_scale * band[x], band["mean"], yerr=yerr, marker="o", capsize=3, **style)


def plot_capacity(table: pd.DataFrame, summary: dict) -> plt.Figure:
    """Net bits stored against people per width, and the bits at the most people against non-embedding parameters.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`smi.lab.experiments.capacity.tidy`'s table.
    summary : dict
        Its summary.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels.
    """
    use_style()
    seeds = table["seed"].nunique()
    widths = sorted(table["hidden"].unique())
    colors = dict(zip(widths, sns.color_palette("viridis", len(widths))))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for hidden in widths:
        group = table[table["hidden"] == hidden]
        params = int(group["non_embedding"].iloc[0])
        label = f"width {hidden}: {params:,} non-emb. params"
        _plot_seed_range(left, group, "people", "net_bits", color=colors[hidden], label=label)
        left.axhline(2 * params, color=colors[hidden], linestyle=":", linewidth=1)
        left.axhline(params, color=colors[hidden], linestyle="--", linewidth=1)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="people (4 facts each)",
        ylabel="net bits stored (bits − control)",
        title="Stored bits as the data grows",
    )
    left.plot([], [], "k--", linewidth=1, label="1 bit per non-emb. parameter")
    left.plot([], [], "k:", linewidth=1, label="2 bits per non-emb. parameter")
    widths_summary = pd.DataFrame(
        [{"non_embedding": w["non_embedding"], **w["saturated_bits"]} for w in summary["widths"]]
    )
    right.errorbar(
        widths_summary["non_embedding"],
        widths_summary["mean"],
        yerr=[widths_summary["mean"] - widths_summary["low"], widths_summary["high"] - widths_summary["mean"]],
        marker="o",
        color="k",
        capsize=3,
        linestyle="none",
        label="net bits at the most people (95% interval)",
    )
    span = np.geomspace(widths_summary["non_embedding"].min() * 0.8, widths_summary["non_embedding"].max() * 1.25)
    for ratio, style in ((1, "--"), (2, ":")):
        label = f"{ratio} bit{'s' if ratio > 1 else ''} per non-emb. parameter"
        right.plot(span, ratio * span, "k" + style, linewidth=1, label=label)
    slope = summary["slope"]
    right.set(
        xscale="log",
        yscale="log",
        xlabel="non-embedding parameters",
        ylabel="net bits stored",
        title=f"At the most people: slope {slope['mean']:.2f} [{slope['low']:.2f}, {slope['high']:.2f}]",
    )
    for axis in (left, right):
        for scale in (axis.xaxis, axis.yaxis):
            scale.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
            scale.set_minor_formatter(mticker.NullFormatter())
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    fig.suptitle(f"Knowledge capacity: {len(widths)} widths, {seeds} seeds (bars: seed range)")
    fig.tight_layout()
    return fig


def plot_diversity(table: pd.DataFrame, summary: dict) -> plt.Figure:
    """Accuracy on the test people's facts per probe phrasing against the share of diverse other people.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`smi.lab.experiments.diversity.tidy`'s table.
    summary : dict
        Its summary.

    Returns
    -------
    matplotlib.figure.Figure
        One panel.
    """
    use_style()
    seeds = table["seed"].nunique()
    facts = int(table["facts"].iloc[0])
    fig, axis = plt.subplots(figsize=(8.5, 4.8))
    labels = {
        "used": "phrasing used for the fact",
        "other": "phrasing used only for other people",
        "never": "phrasing never used",
    }
    for (probe, label), color in zip(labels.items(), sns.color_palette("deep", 3)):
        _plot_seed_range(axis, table[table["probe"] == probe], "share", "accuracy", 100, color=color, label=label)
    chance = _seed_band(table[table["probe"] == "other"], "share", "chance")
    axis.plot(100 * chance["share"], chance["mean"], "k--", label="shuffled-subject chance")
    axis.set(
        xlabel="share of the other people stated in all 8 phrasings (%)",
        ylabel="accuracy (rank 1 of the values)",
        ylim=(0, 1),
        title=f"Extraction in new phrasings: {facts:,} test facts, {seeds} seeds (bars: seed range)",
    )
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9, frameon=False)
    fig.tight_layout()
    return fig


def plot_forgetting(table: pd.DataFrame, summary: dict) -> plt.Figure:
    """Gain in log-probability of the injected facts against steps since their last exposure, per batch size.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`smi.lab.experiments.forgetting.tidy`'s table.
    summary : dict
        Its summary.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per batch size.
    """
    use_style()
    batches = sorted(table["batch_rows"].unique())
    seeds = table["seed"].nunique()
    fig, axes = plt.subplots(1, len(batches), figsize=(6 * len(batches), 4.6), sharey=True, squeeze=False)
    exposures = sorted(table["exposures"].unique())
    colors = dict(zip(exposures, sns.color_palette("rocket_r", len(exposures))))
    after = table[table["since_last"] > 0]
    edges = np.geomspace(1, after["since_last"].max() * 1.01, 16)
    for axis, batch in zip(axes[0], batches):
        for count in exposures:
            group = after[(after["batch_rows"] == batch) & (after["exposures"] == count)]
            bins = pd.cut(group["since_last"], edges)
            means = group.groupby(bins, observed=True).agg(tau=("since_last", "mean"), gain=("gain", "mean"))
            axis.plot(
                means["tau"],
                means["gain"],
                marker="o",
                markersize=4,
                color=colors[count],
                label=f"{count} exposure{'s' if count > 1 else ''}",
            )
        axis.axhline(0, color="k", linestyle="--", linewidth=1, label="control facts (never shown)")
        axis.set(xscale="log", xlabel="steps since the last exposure (log bins)", title=f"batch of {batch} rows")
    axes[0][0].set_ylabel("gain in log q of the true value (nats)")
    axes[0][-1].legend(
        loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9, frameon=False, title="mean over spacings and seeds"
    )
    facts = summary["settings"]["facts_per_condition"] if "settings" in summary else None
    shown = f"{facts} facts per condition, " if facts else ""
    fig.suptitle(f"Forgetting after the last exposure ({shown}{seeds} seeds)")
    fig.tight_layout()
    return fig


def plot_holdout(table: pd.DataFrame, summary: dict) -> plt.Figure:
    """Mean accuracy against parameters with the largest size's prediction made before training, and per-fact R².

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`smi.lab.experiments.holdout.tidy`'s table.
    summary : dict
        Its summary.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: the means, and R² per predictor against the oracle.
    """
    from smi.lab.experiments.holdout import PREDICTORS

    use_style()
    seeds = table["seed"].nunique()
    largest = summary["largest"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1.25, 1]})
    means = table.groupby(["size", "seed"], sort=False).agg(acc=("acc", "mean"), parameters=("parameters", "first"))
    means = means.reset_index()
    _plot_seed_range(
        left, means[means["size"] != largest], "parameters", "acc", color="0.3", label="sizes fitted on (measured)"
    )
    x = float(summary["parameters"][largest])
    low, high = summary["band"]
    centre = summary["mean_accuracy"][largest]["mean"]
    label = f"{largest} measured ±2 SD"
    left.errorbar([x], [centre], yerr=[[-low], [high]], fmt="s", color="k", capsize=5, label=label)
    per_seed = pd.DataFrame(summary["per_seed"])
    offsets = np.geomspace(0.8, 1.25, len(PREDICTORS))
    for name, offset, color in zip(PREDICTORS, offsets, sns.color_palette("deep", len(PREDICTORS))):
        values = per_seed[name]
        left.errorbar(
            [x * offset],
            [values.mean()],
            yerr=[[values.mean() - values.min()], [values.max() - values.mean()]],
            fmt="D",
            color=color,
            capsize=3,
            label=f"{name}, predicted before training",
        )
    left.set(
        xscale="log",
        xlabel="parameters (log scale)",
        ylabel="mean accuracy (rank 1)",
        ylim=(0, 1),
        title=f"Mean accuracy: {largest} predicted from {', '.join(summary['fitted_on'])}",
    )
    names = [*PREDICTORS, "oracle"]
    entries = [summary["r2"][name] for name in names]
    centres = np.array([entry["mean"] for entry in entries])
    errors = [centres - [e["low"] for e in entries], [e["high"] for e in entries] - centres]
    colors = [*sns.color_palette("deep", len(PREDICTORS)), (0.2, 0.2, 0.2)]
    right.barh(names, centres, xerr=errors, color=colors, capsize=3)
    right.axvline(0, color="k", linewidth=1)
    right.invert_yaxis()
    right.set(
        xlabel=f"per-fact R² on {largest} (bars: 95 % t-interval over seeds)",
        title=f"Each fact: {summary['facts']:,} facts per seed; oracle knows exposure and chance",
    )
    fig.legend(*left.get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"A size predicted before it is trained ({seeds} seeds; means: bars from lowest to highest seed)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_experiment(name: str, table: pd.DataFrame, summary: dict, figures_dir: Path) -> list[Path]:
    """The figure of experiment ``name`` saved as ``<figures_dir>/<name>.png`` and ``.pdf``; both paths."""
    plots = {
        "capacity": plot_capacity,
        "diversity": plot_diversity,
        "forgetting": plot_forgetting,
        "holdout": plot_holdout,
    }
    figure = plots[name](table, summary)
    try:
        return save_figure(figure, f"lab_experiment_{name}", figures_dir)
    finally:
        plt.close(figure)
