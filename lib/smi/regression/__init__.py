"""Accuracy against a predictor: the bucketed fit of the paper and the plain per-fact fit, over the release.

Bucketed fit (the paper's R²): each bucket's mean accuracy regressed on the bucket's
normalised value, one point per bucket. Per-fact fit: a new least-squares line over every
fact. The bucketed line on facts: the paper's line itself scored on the facts, never above
the per-fact fit's R² and possibly negative. The formulas are in the modules' docstrings.

One idea per module; every public name is re-exported here, so ``from smi import regression;
regression.fit_all(...)`` works as before.

=========================================  =======================================================================
:mod:`~smi.regression.fits`                the bucketed and the per-fact fit of accuracy on one predictor
:mod:`~smi.regression.r2`                  R² of given predictions; the bucketed line scored on the facts
:mod:`~smi.regression.predictors`          the release's predictors: each model's facts, one column per method
:mod:`~smi.regression.tables`              every model fitted by every method: the bucketed and per-fact tables
:mod:`~smi.regression.outputs`             the output files: two CSV tables and a markdown table, written together
=========================================  =======================================================================
"""

from __future__ import annotations

from smi.regression.fits import BucketedFit, PerFactFit, bucket_means, bucketed_fit, per_fact_fit
from smi.regression.outputs import (
    FIT_OUTPUTS,
    check_fit_outputs,
    fit_output_paths,
    markdown_table,
    write_fit_outputs,
)
from smi.regression.predictors import model_predictors, release_predictors
from smi.regression.r2 import bucketed_line_on_facts, line_r2, r_squared
from smi.regression.tables import BUCKETED_COLUMNS, PER_FACT_COLUMNS, fit_all, fit_release, predictor_r2_rows

__all__ = [
    "BUCKETED_COLUMNS",
    "FIT_OUTPUTS",
    "PER_FACT_COLUMNS",
    "BucketedFit",
    "PerFactFit",
    "bucket_means",
    "bucketed_fit",
    "bucketed_line_on_facts",
    "check_fit_outputs",
    "fit_all",
    "fit_output_paths",
    "fit_release",
    "line_r2",
    "markdown_table",
    "model_predictors",
    "per_fact_fit",
    "predictor_r2_rows",
    "r_squared",
    "release_predictors",
    "write_fit_outputs",
]
