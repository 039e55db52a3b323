"""Figure helpers shared by the notebooks: one look, saved as PNG and PDF.

One idea per module; every public name is re-exported here, so a notebook writes
``from smi import plots; plots.save_figure(...)``.

=================================  ==========================================================================
:mod:`~smi.plots.style`            the theme, the labels a reader sees (models, sizes, corpora), saving files
:mod:`~smi.plots.counts`           counts (notebooks 01, 02): count axes, count-pair bubbles, rank agreement
:mod:`~smi.plots.fits`             bucketed fits (notebook 04, ``smi panels``): bucket means, lines, R² bars
:mod:`~smi.plots.series`           model series (notebooks 04–06): colour and order, a quantity against size
:mod:`~smi.plots.heldout`          held-out predictions (notebook 06): per-fact R², mean accuracy
=================================  ==========================================================================
"""

from __future__ import annotations

from smi.plots.counts import count_ticks, plot_count_pairs, plot_rank_agreement
from smi.plots.fits import METHOD_COLORS, fit_pair_legend_handles, plot_fit_pair, plot_r2_overview
from smi.plots.heldout import plot_heldout_r2, plot_predicted_mean_accuracy, predictor_palette
from smi.plots.series import (
    SERIES_ORDER,
    add_series_legend,
    models_in_series_order,
    plot_series_trend,
    series_colors,
)
from smi.plots.style import (
    ALL_FACTS_AS_IN_PAPER,
    SIZE_LABELS,
    WITHOUT_ANSWER_IN_SUBJECT,
    corpus_label,
    parameter_label,
    safe_name,
    save_figure,
    short_model_name,
    use_style,
    with_size,
)

__all__ = [
    "ALL_FACTS_AS_IN_PAPER",
    "METHOD_COLORS",
    "SERIES_ORDER",
    "SIZE_LABELS",
    "WITHOUT_ANSWER_IN_SUBJECT",
    "add_series_legend",
    "corpus_label",
    "count_ticks",
    "fit_pair_legend_handles",
    "models_in_series_order",
    "parameter_label",
    "plot_count_pairs",
    "plot_fit_pair",
    "plot_heldout_r2",
    "plot_predicted_mean_accuracy",
    "plot_r2_overview",
    "plot_rank_agreement",
    "plot_series_trend",
    "predictor_palette",
    "safe_name",
    "save_figure",
    "series_colors",
    "short_model_name",
    "use_style",
    "with_size",
]
