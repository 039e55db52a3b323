"""The bucketed and per-fact fits on data whose answer is known."""

import numpy as np
import pytest

from smi import regression
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
