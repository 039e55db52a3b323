"""MI, bucketing, normalisation and the SMI exponent on hand-computed cases."""

import math

import numpy as np
import pandas as pd
import pytest

from smi import metrics
from smi.errors import SmiError


def counts_frame(**columns):
    return pd.DataFrame({key: np.atleast_1d(value) for key, value in columns.items()})


def test_mi_of_a_2x2_contingency_by_hand():
    # 100 documents: subject in 20, object in 10, both in 8.
    # p(s,o) = 0.08, p(s) p(o) = 0.2 * 0.1 = 0.02, so MI = 0.08 * log2(4) = 0.16.
    counts = counts_frame(time_seqs=100, time_subj=20, time_obj=10, time_s1j1=8)
    assert metrics.mutual_information(counts).iloc[0] == pytest.approx(0.16, abs=1e-15)


def test_mi_is_negative_below_chance_and_zero_without_cooccurrence():
    counts = counts_frame(time_seqs=[100, 100], time_subj=[50, 50], time_obj=[50, 50], time_s1j1=[10, 0])
    mi = metrics.mutual_information(counts)
    assert mi.iloc[0] == pytest.approx(0.1 * math.log2(0.1 / 0.25))
    assert mi.iloc[0] < 0
    assert mi.iloc[1] == 0.0
    assert list(metrics.usable_facts(counts)) == [False, False]


def test_bucket_truncates_toward_zero_on_both_sides_of_one():
    # log2 values 1.3 → 6.5 → 6 → 1.2 ; -1.3 → -6.5 → -6 → -1.2 (toward zero, not floor)
    buckets = metrics.bucket([2**1.3, 2**-1.3])
    assert buckets[0] == pytest.approx(1.2)
    assert buckets[1] == pytest.approx(-1.2)


def test_bucket_exact_boundary_stays_in_its_own_bucket():
    # 8 = 2**3: 5 * 3 = 15 exactly, so the bucket is 3.0, not 2.8.
    assert metrics.bucket([8.0])[0] == 3.0
    assert metrics.bucket([1.0])[0] == 0.0
    assert metrics.bucket([0.25])[0] == -2.0


def test_bucket_rejects_non_positive_values():
    with pytest.raises(SmiError, match="positive"):
        metrics.bucket([1.0, 0.0])
    with pytest.raises(SmiError, match="positive"):
        metrics.bucket([-0.5])


def test_min_max_of_a_single_bucket_is_a_clear_error():
    with pytest.raises(SmiError, match="two distinct buckets"):
        metrics.min_max(np.array([1.4, 1.4, 1.4]))


def test_min_max_maps_to_unit_interval():
    assert list(metrics.min_max(np.array([-2.0, 0.0, 2.0]))) == [0.0, 0.5, 1.0]


def test_size_exponent_uses_raw_parameter_count():
    assert metrics.size_exponent(2**32) == pytest.approx(1 + 1 / 32)
    with pytest.raises(SmiError, match="model size"):
        metrics.size_exponent(0)


def test_smi_keeps_endpoints_and_lowers_interior_values():
    normalised = np.array([0.0, 0.5, 1.0])
    smi = metrics.smi_from_normalised_mi(normalised, 1e9)
    assert smi[0] == 0.0 and smi[2] == 1.0
    assert smi[1] == pytest.approx(0.5 ** (1 + 1 / math.log2(1e9)))
    assert smi[1] < 0.5


def test_unknown_method_names_the_choices():
    counts = counts_frame(time_seqs=[10, 10], time_subj=[2, 3], time_obj=[2, 3], time_s1j1=[1, 2])
    with pytest.raises(SmiError, match="CO-OCCUR, MI, SMI"):
        metrics.predictor_values(counts, "PMI", 1e9)


def test_derivation_table_steps_agree_with_each_other():
    counts = counts_frame(
        idx=[1, 2, 3, 4],
        time_seqs=[1000] * 4,
        time_subj=[10, 40, 100, 7],
        time_obj=[20, 80, 100, 7],
        time_s1j1=[5, 30, 0, 7],
    )
    table = metrics.derivation_table(counts, parameters=2**30)
    assert list(table["idx"]) == [1, 2, 4]  # fact 3 never co-occurs: dropped
    assert np.allclose(table["mi"], table["p_joint"] * table["pmi"])
    assert table["mi_normalised"].min() == 0 and table["mi_normalised"].max() == 1
    assert np.allclose(table["smi"], table["mi_normalised"] ** (1 + 1 / 30))


def test_largest_smi_shift_matches_a_dense_grid_search():
    grid = np.linspace(0, 1, 200001)
    for parameters in (14e6, 12e9, 176e9):
        k = metrics.size_exponent(parameters)
        assert metrics.largest_smi_shift(parameters) == pytest.approx(np.max(grid - grid**k), abs=1e-9)
