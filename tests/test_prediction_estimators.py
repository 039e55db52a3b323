"""The ranking models as scikit-learn estimators: conventions, one shared design, the code version of the package."""

import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from threadpoolctl import threadpool_limits

from smi import prediction
from smi.errors import SmiError
from synthetic_release import synthetic_accuracies


@pytest.fixture(scope="module")
def training():
    """Training rows, their ranking input and accuracies, and the rows of one held-out corpus."""
    import sklearn.ensemble  # noqa: F401 - threadpoolctl limits only libraries already loaded

    accuracies = synthetic_accuracies(60)
    train, test = accuracies[accuracies["corpus"] != "gamma"], accuracies[accuracies["corpus"] == "gamma"]
    features = prediction.fact_features(train, train["parameters"].to_numpy(dtype=float))
    test_features = prediction.fact_features(test, test["parameters"].to_numpy(dtype=float))
    return (
        prediction.ranking_input(features, train),
        train["acc"].to_numpy(dtype=float),
        prediction.ranking_input(test_features, test.drop(columns="model")),
    )


@pytest.mark.parametrize(
    ("estimator", "changed"),
    [
        (prediction.GlmRanker(questions=False, relations=["born", "capital", "plays"]), {"questions": True}),
        (prediction.BoostingRanker(leaf_facts=5, iterations=7, random_state=3), {"leaf_facts": 10}),
    ],
)
def test_ranking_models_follow_the_scikit_learn_conventions(training, estimator, changed):
    X, y, X_test = training
    params = estimator.get_params()
    copy = clone(estimator)
    assert copy.get_params() == params and not hasattr(copy, "model_")
    with pytest.raises(NotFittedError):
        copy.predict(X_test)
    with threadpool_limits(1):
        assert copy.fit(X, y) is copy
    assert copy.get_params() == params  # fitting leaves the parameters as they were given
    assert {"model_", "design_", "relations_"} <= set(vars(copy)) and copy.relations_ == ["born", "capital", "plays"]
    predicted = copy.predict(X_test)
    assert predicted.shape == (len(X_test),) and ((predicted >= 0) & (predicted <= 1)).all()
    assert clone(estimator).set_params(**changed).get_params() == {**params, **changed}


def test_glm_design_is_the_formula_fitted_on_training_rows_only(training):
    """Constant, sample-standardised features and size, their products with size, one indicator per relation but
    the first; the training means and spreads are applied unchanged to new rows."""
    X, y, X_test = training
    glm = prediction.GlmRanker().fit(X, y)
    columns = [*prediction.GLM_FEATURES, prediction.SIZE_FEATURE]
    mean, std = X[columns].mean(), X[columns].std(ddof=1)
    z = ((X_test[columns] - mean) / std).to_numpy()
    relations = sorted(X["rel"].unique())
    indicators = np.column_stack([(X_test["rel"] == r).to_numpy(dtype=float) for r in relations[1:]])
    by_hand = np.column_stack([np.ones(len(X_test)), z, z[:, :-1] * z[:, -1:], indicators])
    np.testing.assert_allclose(glm.design_.transform(X_test), by_hand, rtol=1e-12, atol=1e-12)
    logits = by_hand @ glm.coef_
    np.testing.assert_allclose(glm.predict(X_test), 1 / (1 + np.exp(-logits)), rtol=1e-12)


def test_boosting_input_keeps_the_column_order_and_codes_the_relation(training):
    X, y, X_test = training
    with threadpool_limits(1):
        gbm = prediction.BoostingRanker(questions=False, iterations=5).fit(X, y)
    design = gbm.design_.transform(X_test.assign(rel=["unknown", *X_test["rel"].iloc[1:]]))
    columns = [*prediction.NORMALISED_FEATURES, *prediction.EXPOSURE_FEATURES, prediction.SIZE_FEATURE]
    expected = prediction.QuantileBins().fit(X[columns]).transform(X_test[columns])
    np.testing.assert_array_equal(design[:, :-1], expected)
    codes = [sorted(X["rel"].unique()).index(r) for r in X_test["rel"].iloc[1:]]
    assert design[0, -1] == -1 and list(design[1:, -1]) == codes
    assert gbm.model_.min_samples_leaf == prediction.LEAF_FACTS * X["model"].nunique()


def test_quantile_bins_use_every_row_and_ignore_the_seventh_decimal():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30_000, 2))
    bins = prediction.QuantileBins().fit(x)
    codes = bins.transform(x)
    assert codes.max() == prediction.FEATURE_BINS - 1 and codes.min() == 0
    counts = np.bincount(codes[:, 0].astype(int))
    assert counts.max() - counts.min() <= 3  # equal-count bins over all rows (ties of rounding aside), no sample
    np.testing.assert_array_equal(bins.transform(x + 4e-8), codes)
    few = prediction.QuantileBins().fit(np.repeat([[0.0], [1.0], [2.0], [5.0]], [10, 3, 50, 1], axis=0))
    np.testing.assert_array_equal(few.transform([[0.0], [1.0], [2.0], [5.0], [9.0]]).ravel(), [0, 1, 2, 3, 3])


def test_boosting_ignores_noise_in_the_last_bits_of_its_features(training):
    """Two machines can differ in the last bits of a logarithm; the trees grown must not."""
    X, y, X_test = training
    columns = [*prediction.NORMALISED_FEATURES, *prediction.EXPOSURE_FEATURES]
    rng = np.random.default_rng(0)
    noisy = X.copy()
    noisy[columns] = X[columns] * (1 + rng.choice([-1, 1], size=X[columns].shape) * 4e-16)
    assert (noisy[columns] != X[columns]).to_numpy().any()
    with threadpool_limits(1):
        clean = prediction.BoostingRanker(iterations=30).fit(X, y).predict(X_test)
        perturbed = prediction.BoostingRanker(iterations=30).fit(noisy, y).predict(X_test)
    np.testing.assert_array_equal(clean, perturbed)


def test_fold_code_version_covers_every_module_of_the_package(tmp_path):
    """An edit of the code of any module of the package (not of a comment) gives a new code version."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    sources = prediction.package_sources()
    names = {path.name for path in sources}
    modules = {name.split(".")[-1] for name in (getattr(prediction, n).__module__ for n in ("evaluate", "GlmRanker"))}
    assert "__init__.py" in names and {f"{m}.py" for m in modules} <= names
    assert names == {path.name for path in sources[0].parent.glob("*.py")}
    copy = tmp_path / "lib"
    shutil.copytree(Path(prediction.__file__).parents[1], copy / "smi")
    probe = "from smi import prediction; print(prediction.fold_code_version())"

    def version() -> str:
        env = {**os.environ, "PYTHONPATH": str(copy)}
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    before = version()
    assert before == prediction.fold_code_version()
    estimators = copy / "smi" / "prediction" / "estimators.py"
    estimators.write_text(estimators.read_text() + "\n# an edit of a comment\n")
    assert version() == before
    estimators.write_text(estimators.read_text() + "\n_EDITED = 1\n")
    assert version() != before


# --------------------------------------------------------------------------- calibration and interval coverage


def test_calibration_bins_hold_equal_counts_in_order_of_prediction():
    rng = np.random.default_rng(0)
    pred = rng.uniform(size=1000)
    acc = np.clip(pred + rng.normal(0, 0.1, size=1000), 0, 1)
    bins = prediction.calibration_bins(acc, pred, bins=20)
    assert bins["facts"].tolist() == [50] * 20
    assert bins["pred"].is_monotonic_increasing
    order = np.argsort(pred, kind="stable")
    assert bins.loc[0, "acc"] == pytest.approx(acc[order[:50]].mean())
    assert bins.loc[19, "pred"] == pytest.approx(pred[order[-50:]].mean())
    with pytest.raises(SmiError, match="bins"):
        prediction.calibration_bins(acc[:5], pred[:5], bins=6)


def test_interval_coverage_counts_informative_intervals_only():
    lower, upper = [0.0, 0.1, 0.2, 0.0], [1.0, 0.3, 0.25, 0.9]
    covered = [True, True, False, True]
    assert prediction.uninformative(lower, upper).tolist() == [True, False, False, False]
    assert prediction.interval_coverage(lower, upper, covered) == {
        "intervals": 4,
        "uninformative": 1,
        "informative": 3,
        "covered": 2,
        "median_width": pytest.approx(0.2),
    }
