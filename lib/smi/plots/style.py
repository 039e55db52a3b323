"""The house look of every figure: the theme, the labels a reader sees, and saving as PNG and PDF.

Only matplotlib's bundled DejaVu fonts are used, so nothing needs installing.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

from smi.files import atomic_output
from smi.frequency import CORPUS_LABELS

__all__ = [
    "ALL_FACTS_AS_IN_PAPER",
    "SIZE_LABELS",
    "WITHOUT_ANSWER_IN_SUBJECT",
    "corpus_label",
    "parameter_label",
    "safe_name",
    "save_figure",
    "short_model_name",
    "use_style",
    "with_size",
]


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
