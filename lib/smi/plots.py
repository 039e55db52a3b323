"""Figure helpers shared by the notebooks: one look, saved as PNG and PDF.

Only matplotlib's bundled DejaVu fonts are used, so nothing needs installing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() == "agg" else None
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

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
