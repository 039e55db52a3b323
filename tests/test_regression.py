"""The bucketed and per-fact fits on data whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from smi import metrics, regression
from smi.errors import SmiError


def test_bucketed_fit_recovers_an_exact_line_through_bucket_means():
    # Three buckets; within each, accuracies scatter symmetrically around 0.1 + 0.6 x.
    x = np.repeat([0.0, 0.5, 1.0], 4)
    noise = np.tile([-0.05, 0.05, -0.02, 0.02], 3)
    acc = 0.1 + 0.6 * x + noise
    fit = regression.bucketed_fit(x, acc)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.slope == pytest.approx(0.6)
    assert fit.intercept == pytest.approx(0.1)
    assert fit.upper_bound == pytest.approx(0.7)
    assert fit.x_intercept == pytest.approx(-0.1 / 0.6)
    # every bucket has mean squared residual (0.05² + 0.05² + 0.02² + 0.02²)/4
    assert fit.mse == pytest.approx((2 * 0.05**2 + 2 * 0.02**2) / 4)
    assert (fit.n_facts, fit.n_buckets) == (12, 3)


def test_bucketed_r2_weighs_buckets_equally_unlike_per_fact_r2():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(500), np.full(5, 0.5), np.ones(5)])
    acc = np.clip(0.2 + 0.5 * x + rng.normal(0, 0.2, x.size), 0, 1)
    bucketed = regression.bucketed_fit(x, acc)
    per_fact = regression.per_fact_fit(x, acc)
    assert bucketed.r2 > 0.9
    assert per_fact.r2 < bucketed.r2


def test_mse_averages_buckets_not_facts():
    x = np.array([0.0, 1.0, 1.0, 1.0])
    acc = np.array([0.0, 0.5, 1.0, 1.5])  # line through means: 0 + 1.0 x
    fit = regression.bucketed_fit(x, acc)
    # bucket 0: residual 0; bucket 1: residuals -0.5, 0, 0.5 → mean sq 1/6
    assert fit.mse == pytest.approx((0 + 1 / 6) / 2)


def test_a_single_bucket_is_an_error():
    with pytest.raises(SmiError, match="two buckets"):
        regression.bucketed_fit(np.zeros(5), np.linspace(0, 1, 5))


def test_line_r2_of_the_least_squares_line_is_the_per_fact_r2_and_other_lines_do_worse():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 400)
    acc = np.clip(0.1 + 0.4 * x + rng.normal(0, 0.2, x.size), 0, 1)
    plain = regression.per_fact_fit(x, acc)
    assert regression.line_r2(x, acc, plain.intercept, plain.slope) == pytest.approx(plain.r2)
    assert regression.line_r2(x, acc, plain.intercept + 0.05, plain.slope) < plain.r2
    # a line far from every fact predicts worse than the mean: negative R²
    assert regression.line_r2(x, acc, 2.0, 0.0) < 0
    with pytest.raises(SmiError, match="same accuracy"):
        regression.line_r2(x, np.full(x.size, 0.3), 0.0, 1.0)


def test_bucketed_line_on_facts_scores_the_bucketed_line_not_a_new_one():
    # Many facts in the middle bucket sit below the line through the bucket means: the bucketed line
    # and the per-fact least-squares line differ, and so do their per-fact R².
    x = np.concatenate([np.zeros(5), np.full(200, 0.5), np.ones(5)])
    rng = np.random.default_rng(2)
    acc = np.concatenate([rng.uniform(0.0, 0.2, 5), rng.uniform(0.0, 0.3, 200), rng.uniform(0.8, 1.0, 5)])
    frame = pd.DataFrame({"acc": acc, **{method: x for method in metrics.METHODS}})
    bucketed, per_fact = regression.fit_all({"m": frame})
    on_facts = regression.bucketed_line_on_facts({"m": frame}, bucketed)
    assert list(on_facts.columns) == ["model", "method", "r2"] and len(on_facts) == 3
    line = bucketed.iloc[0]
    expected = 1 - np.sum((acc - line["intercept"] - line["slope"] * x) ** 2) / np.sum((acc - acc.mean()) ** 2)
    assert on_facts["r2"].iloc[0] == pytest.approx(expected)
    assert on_facts["r2"].iloc[0] < per_fact["r2"].iloc[0]  # the least-squares line on facts does better
    with pytest.raises(SmiError, match="no bucketed fit for model 'other'"):
        regression.bucketed_line_on_facts({"other": frame}, bucketed)
