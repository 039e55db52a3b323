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


def safe_name(text: str) -> str:
    """A file-name-safe version of a model or method name (``CO-OCCUR`` → ``co-occur``)."""
    return "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in text).lower()
