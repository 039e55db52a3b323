"""Out-of-sample accuracy prediction: synthetic data with a known answer, a shuffled control, the CLI."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import special
from threadpoolctl import threadpool_limits

from smi import formats, prediction, regression, release
from smi.errors import SmiError
from synthetic_release import synthetic_accuracies


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Boosting on small data spends its time synchronising OpenMP threads on a busy machine; use one.
    (threadpoolctl limits only the libraries already loaded, so scikit-learn's OpenMP is loaded first.)"""
    import sklearn.ensemble  # noqa: F401

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_accuracies()


@pytest.fixture(scope="module")
def synthetic_predictions(synthetic):
    return prediction.evaluate(synthetic, "leave-one-corpus-out", gbm_iterations=80)


def test_held_out_corpora_are_predicted_close_to_the_noise_ceiling(synthetic, synthetic_predictions):
    merged = synthetic_predictions.merge(synthetic[["model", "idx", "truth"]], on=["model", "idx"])
    for model, rows in merged.groupby("model"):
        ceiling = regression.r_squared(rows["acc"], rows["truth"])  # R² of the true probabilities
        assert ceiling > 0.9
        for column in ("pred_gbm", "pred_best", "pred_glm"):
            assert regression.r_squared(rows["acc"], rows[column]) > ceiling - 0.15, (model, column)
        assert regression.r_squared(rows["acc"], rows["pred_best"]) > regression.r_squared(
            rows["acc"], rows["pred_smi"]
        )


def test_counts_alone_miss_what_the_question_shows(synthetic_predictions):
    """The copy effect is invisible to the counts: boosting without question features loses to boosting with them."""
    for model, rows in synthetic_predictions.groupby("model"):
        with_questions = regression.r_squared(rows["acc"], rows["pred_gbm"])
        counts_only = regression.r_squared(rows["acc"], rows["pred_gbm_counts"])
        assert with_questions > counts_only + 0.05, model


def test_question_features_by_hand():
    facts = pd.DataFrame(
        {
            "subj": ["University of Oslo", "Anna Berg", "Paris Saint-Germain", "Ole Vig"],
            "rel": ["located", "citizen", "located", "citizen"],
            "obj": ["Oslo", "Norway", "paris", "Norway"],
        },
        index=[10, 11, 12, 13],
    )
    features = prediction.question_features(facts)
    assert features.index.tolist() == [10, 11, 12, 13]
    # 'located' has two facts with different answers (share 1/2); both 'citizen' facts answer Norway (share 1)
    assert features["log_answer_share"].tolist() == pytest.approx([np.log10(0.5), 0.0, np.log10(0.5), 0.0])
    assert features["answer_in_subject"].tolist() == [
        1.0,
        0.0,
        1.0,
        0.0,
    ]  # case is ignored: "paris" in "Paris Saint-Germain"
    with pytest.raises(SmiError, match="'obj'"):
        prediction.question_features(facts.drop(columns="obj"))


def test_level_model_uses_the_large_model_trend_only_for_large_models():
    parameters = [1e7, 1e8, 3e8, 2e9, 8e9, 3e10]
    levels = pd.DataFrame(
        {"series": list("abcabc"), "parameters": parameters, "mean_acc": [0.05, 0.05, 0.06, 0.12, 0.16, 0.2]}
    )
    level = prediction.fit_level_model(levels, "series")
    large_only = prediction.fit_size_trend(levels[levels["parameters"] >= 1e9], level.large.flat_beyond_largest)
    assert level.mean_accuracy(5e9) == pytest.approx(large_only.mean_accuracy(5e9))
    assert level.mean_accuracy(5e7) == pytest.approx(level.all_models.mean_accuracy(5e7))
    # the floor of the small models pulls the all-model line below the large models' own trend at 5e9
    assert level.all_models.mean_accuracy(5e9) < level.mean_accuracy(5e9)
    assert prediction.fit_level_model(levels[levels["parameters"] < 5e9], "series").large is None  # one large size only
    close_sizes = pd.concat([levels, levels.tail(1).assign(parameters=2.5e9)])
    assert (
        prediction.fit_level_model(close_sizes[close_sizes["parameters"] < 5e9], "series").large is None
    )  # 2e9 and 2.5e9


def test_predictions_cover_every_fact_of_every_held_out_model(synthetic, synthetic_predictions):
    assert len(synthetic_predictions) == len(synthetic)
    assert list(synthetic_predictions.columns) == prediction.PREDICTION_COLUMNS
    columns = [f"pred_{name}" for name in prediction.PREDICTORS]
    values = synthetic_predictions[columns].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()


@pytest.mark.slow  # more than 10 s
def test_shuffled_labels_score_about_zero():
    """Accuracy shuffled within each model carries no information. Trees fit some of that noise,
    which costs a little R² (the more facts, the less), but the predictions must not rank the facts."""
    rng = np.random.default_rng(1)
    shuffled = synthetic_accuracies(n_facts=1500)
    for _, rows in shuffled.groupby("model").indices.items():
        shuffled.iloc[rows, shuffled.columns.get_loc("acc")] = rng.permutation(shuffled["acc"].to_numpy()[rows])
    predictions = prediction.evaluate(shuffled, "leave-one-corpus-out", gbm_iterations=80)
    for model, rows in predictions.groupby("model"):
        r2 = regression.r_squared(rows["acc"], rows["pred_best"])
        assert -0.15 < r2 < 0.03, model
        assert abs(np.corrcoef(rows["acc"], rows["pred_best"])[0, 1]) < 0.2, model


def test_size_trend_recovers_a_known_logit_line_and_is_flat_beyond_the_largest_model():
    parameters = np.array([1e8, 1e9, 1e10, 3e10])
    levels = pd.DataFrame({"parameters": parameters, "mean_acc": special.expit(-3.0 + 0.2 * np.log10(parameters))})
    trend = prediction.fit_size_trend(levels, flat_beyond_largest=True)
    assert trend.intercept == pytest.approx(-3.0) and trend.slope == pytest.approx(0.2)
    assert trend.mean_accuracy(1e9) == pytest.approx(special.expit(-1.2))
    assert trend.mean_accuracy(1e12) == pytest.approx(trend.mean_accuracy(3e10))
    free = prediction.fit_size_trend(levels, flat_beyond_largest=False)
    assert free.mean_accuracy(1e12) == pytest.approx(special.expit(-3.0 + 2.4))


def test_inner_validation_keeps_extrapolating_a_trend_that_holds_and_stops_one_that_saturates():
    linear = pd.DataFrame({"series": list("aabbcc"), "parameters": [1e8, 1e9, 1e9, 1e10, 1e10, 1e11]})
    linear["mean_acc"] = special.expit(-3.0 + 0.2 * np.log10(linear["parameters"]))
    assert not prediction.choose_size_trend(linear, "series").flat_beyond_largest
    saturating = linear.assign(mean_acc=[0.05, 0.10, 0.10, 0.15, 0.15, 0.15])
    assert prediction.choose_size_trend(saturating, "series").flat_beyond_largest


def test_shift_to_mean_hits_the_target_and_keeps_the_order():
    pred = np.array([0.01, 0.2, 0.5, 0.7, 0.95])
    shifted = prediction.shift_to_mean(pred, 0.3)
    assert shifted.mean() == pytest.approx(0.3)
    assert (np.argsort(shifted) == np.argsort(pred)).all()


def test_calibration_slope_by_hand():
    acc = np.array([0.0, 0.2, 0.4, 0.6])
    assert prediction.calibration_slope(acc, acc) == pytest.approx(1.0)
    assert prediction.calibration_slope(acc, 2 * acc + 0.1) == pytest.approx(0.5)  # twice as spread: too confident
    assert np.isnan(prediction.calibration_slope(acc, np.full(4, 0.3)))


def test_r_squared_by_hand():
    acc = np.array([0.0, 0.5, 1.0])
    assert regression.r_squared(acc, acc) == 1.0
    assert regression.r_squared(acc, np.full(3, 0.5)) == 0.0
    # reversed: residuals -1, 0, 1 → SSE 2; SST 0.5 → R² = 1 − 4 = −3
    assert regression.r_squared(acc, np.array([1.0, 0.5, 0.0])) == pytest.approx(1 - 2.0 / 0.5)
    assert np.isnan(regression.r_squared(np.full(3, 0.4), acc))  # accuracy that does not vary: undefined
    assert np.isnan(regression.r_squared(np.array([]), np.array([])))


def test_bootstrap_bucketed_r2_equals_the_papers_fit_without_resampling():
    rng = np.random.default_rng(3)
    acc = rng.uniform(0, 1, 300)
    for pred in (np.round(acc + rng.normal(0, 0.2, 300), 1), np.clip(acc + rng.normal(0, 0.3, 300), 0, 1)):
        vectorised = prediction._bootstrap_bucketed_r2(np.ones((1, 300)), acc, pred)[0]
        assert vectorised == pytest.approx(regression.bucketed_fit(prediction.prediction_buckets(pred), acc).r2)


def test_bootstrap_intervals_contain_the_estimates_and_pair_the_predictors():
    rng = np.random.default_rng(4)
    acc = rng.uniform(0, 1, 500)
    preds = {"smi": np.full(500, 0.4) + rng.normal(0, 0.01, 500), "best": acc + rng.normal(0, 0.1, 500)}
    summary = prediction.bootstrap_summary(acc, preds, n_boot=100).set_index("predictor")
    for metric in ("r2", "spearman", "mean_acc", "mean_pred", "mean_error", "calibration_slope"):
        assert (summary[f"{metric}_lo"] <= summary[metric]).all() and (
            summary[metric] <= summary[f"{metric}_hi"]
        ).all(), metric
    # the bucketed R² is biased under resampling (buckets come and go), so only its interval's order is checked
    assert (summary["r2_bucketed_lo"] <= summary["r2_bucketed_hi"]).all()
    assert summary.loc["best", "r2_gain_over_smi_lo"] > 0.5
    assert summary.loc["smi", "r2_gain_over_smi"] == 0.0


def test_unknown_scheme_is_a_one_line_error(run_cli, tmp_path):
    code, _, err = run_cli("evaluate", "--scheme", "leave-one-fact-out", "--out", tmp_path)
    assert code == 2
    assert err.strip().count("\n") == 0 and "leave-one-corpus-out" in err


def test_counts_without_a_needed_column_name_the_record_and_field(run_cli, tmp_path):
    counts = tmp_path / "counts.json"
    fact = {
        "idx": 1,
        "subj": "Ada Lovelace",
        "rel": "born",
        "obj": "London",
        "time_seqs": 10,
        "time_subj": 3,
        "time_obj": 4,
    }
    counts.write_text(json.dumps([fact]))
    code, _, err = run_cli("predict", "--counts", counts, "--params", "7e9")
    assert code == 2 and "record 0" in err and "time_s1j1" in err
    table = tmp_path / "counts.csv"
    table.write_text("idx,subj,rel,obj,time_subj,time_obj,time_s1j1\n1,Ada Lovelace,born,London,3,4,2\n")
    code, _, err = run_cli("predict", "--counts", table, "--params", "7e9")
    assert code == 2 and "missing column 'time_seqs'" in err
    table.write_text("idx,rel,time_seqs,time_subj,time_obj,time_s1j1\n1,born,10,3,4,2\n")
    code, _, err = run_cli("predict", "--counts", table, "--params", "7e9")
    assert code == 2 and "missing column 'subj'" in err
    table.write_text("idx,subj,rel,obj,time_subj,time_obj,time_s1j1\n1,Ada,born,London,3,4,2\n2,Ole,born,NA,3,4,9\n")
    code, _, err = run_cli("predict", "--counts", table, "--params", "7e9", "--corpus-docs", "100")
    assert code == 2 and "line 3" in err and "time_s1j1" in err
    table.write_text("idx,subj,rel,obj,time_subj,time_obj,time_s1j1\n1,Ada,born,London,3,,2\n")
    code, _, err = run_cli("predict", "--counts", table, "--params", "7e9", "--corpus-docs", "100")
    assert code == 2 and "line 2" in err and "'time_obj'" in err


@pytest.mark.parametrize("params", ["0", "-5", "1"])
def test_a_parameter_count_of_at_most_one_is_an_error(run_cli, tmp_path, params):
    code, _, err = run_cli("predict", "--counts", tmp_path / "unused.json", f"--params={params}")
    assert code == 2 and "--params" in err and err.strip().count("\n") == 0


QUICK_MODELS = ["pythia-410m", "pythia-2.8b", "bloom-560m", "bloom-3b", "ours-1.6b", "ours-7b"]


@pytest.mark.slow  # more than 10 s
def test_evaluate_on_real_models_beats_smi_and_resumes(release_dir, run_cli, tmp_path):
    argv = [
        "evaluate",
        "--release",
        release_dir,
        "--scheme",
        "leave-one-corpus-out",
        "--out",
        tmp_path,
        "--models",
        *QUICK_MODELS,
        "--bootstrap",
        "20",
        "--gbm-iterations",
        "60",
    ]
    code, out, err = run_cli(*argv)
    assert code == 0, err
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert len(predictions) == len(QUICK_MODELS) * (12671 - 604)  # without the answer-in-subject facts
    assert "left out 604 facts" in out
    assert set(summary["predictor"]) == set(prediction.PREDICTORS) and len(summary) == len(prediction.PREDICTORS) * len(
        QUICK_MODELS
    )
    assert "interval of the mean covers" in out
    for line in (line for line in out.splitlines() if line.startswith("pred_best")):  # [0, 1] is never "covered"
        counts = prediction.interval_coverage(
            summary.loc[summary["predictor"] == "best", "mean_lower"],
            summary.loc[summary["predictor"] == "best", "mean_upper"],
            summary.loc[summary["predictor"] == "best", "mean_covered"],
        )
        assert "informative intervals" in line
        if "≥ 1B" not in line:
            assert f"covers {counts['covered']} of {counts['informative']} informative" in line
    best = summary[summary["predictor"] == "best"].set_index("model")
    smi = summary[summary["predictor"] == "smi"].set_index("model")
    assert (best["r2"] > smi["r2"]).all()
    checkpoints = sorted((tmp_path / "folds").glob("*.parquet"))
    assert len(checkpoints) == 3  # one per held-out corpus
    written = (tmp_path / "predictions.csv").read_bytes()
    code, _, err = run_cli(*argv)  # the second run reuses the folds
    assert code == 0 and "recomputing" not in err
    assert (tmp_path / "predictions.csv").read_bytes() == written


@pytest.mark.slow  # more than 10 s
def test_predict_a_new_model_from_release_counts(release_dir, run_cli, tmp_path):
    models = release.select_models(formats.load_models(), ["pythia-410m", "pythia-2.8b", "bloom-560m", "bloom-3b"])
    table = tmp_path / "models.csv"
    models.to_csv(table, index=False)
    all_counts = release.load_corpus_counts(release_dir, "slimpajama")
    flagged = release.answer_written_in_subject(all_counts)
    counts = pd.concat([all_counts[~flagged].head(480), all_counts[flagged].head(20)]).sort_index()
    counts_path = tmp_path / "counts.csv"
    counts.drop(columns=["time_seqs"]).to_csv(counts_path, index=False)
    means = []
    for params in ("5e8", "3e9"):
        out = tmp_path / f"pred-{params}.csv"
        code, stdout, err = run_cli(
            "predict",
            "--counts",
            counts_path,
            "--params",
            params,
            "--corpus-docs",
            "567910235",
            "--release",
            release_dir,
            "--models-table",
            table,
            "--gbm-iterations",
            "40",
            "--out",
            out,
        )
        assert code == 0, err
        predicted = pd.read_csv(out)
        assert len(predicted) == 500 and predicted["idx"].tolist() == counts["idx"].tolist()
        assert predicted["answer_in_subject"].sum() == 20
        assert predicted["answer_in_subject"].tolist() == [
            obj in subj for subj, obj in zip(counts["subj"], counts["obj"])
        ]
        assert predicted.filter(like="pred_").apply(lambda c: c.between(0, 1).all()).all()
        assert (predicted["best_lower"] <= predicted["pred_best"]).all() and (
            predicted["pred_best"] <= predicted["best_upper"]
        ).all()
        line = next(text for text in stdout.splitlines() if text.startswith("best: mean accuracy"))
        mean, lower, upper = (
            float(v)
            for v in re.match(r"best: mean accuracy ([0-9.]+) \(90 % interval ([0-9.]+)–([0-9.]+)\)", line).groups()
        )
        assert mean == pytest.approx(predicted["pred_best"].mean(), abs=5e-4) and lower <= mean <= upper
        means.append(predicted["pred_best"].mean())
    assert means[1] > means[0]  # the larger model is predicted to know more


def test_answer_written_in_subject_is_case_sensitive_and_dropped_per_fact():
    facts = pd.DataFrame(
        {
            "model": ["m"] * 3 + ["n"] * 3,
            "idx": [1, 2, 3] * 2,
            "subj": ["Real Madrid", "The Jazz Messengers", "Ada Lovelace"] * 2,
            "obj": ["Madrid", "jazz", "London"] * 2,
            "acc": [1.0, 0.4, 0.1] * 2,
        }
    )
    assert release.answer_written_in_subject(facts).tolist() == [True, False, False] * 2
    kept, dropped = release.apply_answer_in_subject(facts, "drop")
    assert dropped == 1 and kept["idx"].tolist() == [2, 3, 2, 3]


def test_release_scored_answer_in_subject_facts_as_known(release_dir):
    """The artefact the prediction leaves out, checked on the release itself: a 14M-parameter model
    is 'right' on every fact whose answer is in the subject's name, and on almost nothing else."""
    models = release.select_models(formats.load_models(), ["pythia-14m", "bloom"])
    accuracies = release.load_accuracies(release_dir, models)
    flagged = release.answer_written_in_subject(accuracies)
    small = accuracies["model"] == "pythia-14m"
    assert flagged[small].sum() > 500
    assert (accuracies.loc[small & flagged, "acc"] == 1.0).all()
    assert accuracies.loc[small & ~flagged, "acc"].mean() < 0.01
    bloom_176b = accuracies.loc[(accuracies["model"] == "bloom") & flagged, "acc"]
    assert (bloom_176b == 1.0).mean() < 0.1  # scored on its answers: ordinary accuracies


# ---------------------------------------------------------------- nested selection and intervals (issue 13)


def test_conformal_quantile_covers_a_known_law_at_the_nominal_rate():
    """Models whose mean accuracy follows a known logit law plus exchangeable noise: the split-conformal
    interval from 19 calibration models holds the next model's mean in 90 % of 4000 draws (the guarantee is
    ≥ 90 % and < 90 % + 1/20), and with fewer than 9 calibration models it is [0, 1]."""
    rng = np.random.default_rng(7)
    law = lambda log_params: -3.0 + 0.25 * log_params
    draws, n_calibration, covered = 4000, 19, 0
    for _ in range(draws):
        log_params = rng.uniform(8, 11, n_calibration + 1)
        measured = special.expit(law(log_params) + rng.standard_t(4, n_calibration + 1) * 0.2)
        predicted = special.expit(law(log_params))
        scores = np.abs(special.logit(predicted[:-1]) - special.logit(measured[:-1]))
        lower, upper = prediction.mean_interval(predicted[-1], prediction.conformal_quantile(scores, 0.9))
        covered += lower <= measured[-1] <= upper
    error = 3 * np.sqrt(0.9 * 0.1 / draws)
    assert 0.9 - error <= covered / draws <= 0.9 + 1 / (n_calibration + 1) + error
    assert prediction.conformal_quantile(np.arange(8.0), 0.9) == np.inf
    assert prediction.mean_interval(0.2, np.inf) == (0.0, 1.0)
    assert prediction.conformal_quantile(np.arange(1.0, 10.0), 0.9) == 9.0  # ⌈0.9 · 10⌉ = 9th of 9


def test_fact_intervals_are_calibrated_per_prediction_bin():
    rng = np.random.default_rng(8)
    measure = lambda predicted: np.clip(predicted + rng.normal(0, 0.02 + 0.2 * predicted), 0, 1)
    predictions = rng.uniform(0, 1, 20000)
    intervals = prediction.fit_fact_intervals(predictions, measure(predictions) - predictions, 0.9)
    assert np.all(np.diff(intervals.half_widths[:6]) > 0)
    new = rng.uniform(0, 1, 20000)
    lower, upper = intervals.bounds(new)
    truth = measure(new)
    inside = (truth >= lower) & (truth <= upper)
    assert abs(inside.mean() - 0.9) < 0.015
    assert abs(inside[new < 0.2].mean() - 0.9) < 0.03 and abs(inside[new > 0.8].mean() - 0.9) < 0.03


@pytest.fixture(scope="module")
def six_corpora():
    corpora = {"alpha": 2e6, "beta": 3e7, "gamma": 4e8, "delta": 9e9, "epsilon": 6e7, "zeta": 1e9}
    return synthetic_accuracies(n_facts=300, seed=5, corpora=corpora)


@pytest.fixture(scope="module")
def six_corpora_predictions(six_corpora):
    return prediction.evaluate(six_corpora, "leave-one-corpus-out", gbm_iterations=40)


@pytest.mark.slow  # more than 10 s
def test_nested_intervals_cover_a_known_law_at_the_nominal_rate(six_corpora_predictions):
    """Twelve synthetic models on six corpora, one law: each fold's intervals are calibrated on the inner
    held-out errors of its ten training models, and they cover the held-out ones about as often as promised."""
    summary = prediction.summarise(six_corpora_predictions, n_boot=10)
    best = summary[summary["predictor"] == "best"]
    # one law for all sizes: the pooled calibration (all ten inner held-out models of a fold) applies
    assert len(best) == 12 and (best["pooled_width"].astype(float) < 0.5).all()  # calibrated, not [0, 1]
    assert best["pooled_covered"].astype(bool).sum() >= 9  # P(X ≤ 8) = 2.6 % for X ~ Binomial(12, 0.9)
    inside = six_corpora_predictions["acc"].between(
        six_corpora_predictions["best_lower"], six_corpora_predictions["best_upper"]
    )
    assert 0.86 <= inside.mean() <= 0.94  # pooled over 3600 facts
    assert (six_corpora_predictions["best_lower"] <= six_corpora_predictions["pred_best"]).all()
    assert (six_corpora_predictions["pred_best"] <= six_corpora_predictions["best_upper"]).all()
    # the law is logistic in the log shares: the inner folds choose the GLM in every outer fold
    assert set(six_corpora_predictions["selected"].str.split(",").str[0]) == {"glm+q"}


@pytest.mark.slow  # more than 10 s
def test_selection_and_intervals_see_the_training_models_only(six_corpora, six_corpora_predictions):
    """Scrambling every accuracy of the held-out corpus changes nothing that its fold chose or calibrated."""
    rng = np.random.default_rng(9)
    scrambled = six_corpora.copy()
    alpha = (scrambled["corpus"] == "alpha").to_numpy()
    scrambled.loc[alpha, "acc"] = rng.uniform(0, 1, alpha.sum())
    again = prediction.evaluate(scrambled, "leave-one-corpus-out", gbm_iterations=40).set_index(["model", "idx"])
    before = six_corpora_predictions.set_index(["model", "idx"]).loc[again.index]
    rows = again["corpus"] == "alpha"
    for column in ("pred_best", "best_lower", "best_upper", "mean_lower", "mean_upper", "selected"):
        assert again.loc[rows, column].equals(before.loc[rows, column]), column
    assert not again.loc[~rows, "pred_best"].equals(before.loc[~rows, "pred_best"])  # other folds train on alpha


def test_settings_are_parameters_of_the_fit(synthetic):
    """The leaf size reaches the boosting, the threshold the level model; the fixed settings are today's."""
    train = synthetic[synthetic["corpus"] != "alpha"]
    fitted = prediction.fit_predictors(train, "corpus", 20, settings=prediction.FitSettings("gbm", False, 40, 0.0))
    assert fitted.best_ranking.model_.min_samples_leaf == 40 * train["model"].nunique()
    assert not fitted.best_ranking.questions and fitted.best_level.min_parameters == 0.0
    assert fitted.gbm.model_.min_samples_leaf == prediction.LEAF_FACTS * train["model"].nunique()
    reused = prediction.fit_predictors(train, "corpus", 20)
    assert reused.best_ranking is reused.gbm and prediction.FIXED_SETTINGS.label() == "gbm+q leaf 20, trend ≥ 1e+09"
    assert len(prediction.settings_grid()) == len(prediction.RANKING_GRID) * len(prediction.TREND_GRID) * len(
        prediction.TOKENS_GRID
    )


def test_level_model_uses_training_tokens_when_they_are_known_and_vary():
    """A known law in size and tokens is recovered; a model without tokens gets the size trend."""
    sizes = np.array([1e9, 2e9, 4e9, 8e9, 1.6e10, 1e9, 4e9, 1.6e10])
    tokens = np.array([3e11, 3e11, 3e11, 3e11, 3e11, 1e12, 1e12, 1e12])
    levels = pd.DataFrame(
        {
            "model": [f"m{i}" for i in range(8)],
            "series": list("aaaaabbb"),
            "parameters": sizes,
            "tokens": tokens,
            "mean_acc": special.expit(-6 + 0.3 * np.log10(sizes) + 0.25 * np.log10(tokens)),
        }
    )
    level = prediction.fit_level_model(levels, "series", 1e9, with_tokens=True)
    assert level.tokens.tokens_slope == pytest.approx(0.25) and level.tokens.slope == pytest.approx(0.3)
    assert level.mean_accuracy(3e9, 1e12) == pytest.approx(special.expit(-6 + 0.3 * np.log10(3e9) + 3.0))
    assert level.mean_accuracy(3e9, None) == pytest.approx(level.large.mean_accuracy(3e9))
    same_tokens = levels.assign(tokens=3e11)  # tokens that do not vary carry no information
    assert prediction.fit_level_model(same_tokens, "series", 1e9, with_tokens=True).tokens is None


def test_mean_interval_is_calibrated_within_the_size_class():
    """A model of at least 1B gets the quantile of the inner models of at least 1B, a smaller one that of
    the smaller ones; too few in a class for 90 % gives [0, 1]."""
    sizes = np.array([1e8] * 9 + [2e9] * 9)
    scores = np.array([0.1] * 9 + [1.0] * 9)
    selection = prediction.Selection(
        prediction.FIXED_SETTINGS, pd.DataFrame(), scores, np.array([]), np.array([]), sizes
    )
    assert selection.mean_interval(0.5, 3e9) == pytest.approx((special.expit(-1.0), special.expit(1.0)))
    assert selection.mean_interval(0.5, 3e8) == pytest.approx((special.expit(-0.1), special.expit(0.1)))
    assert selection.mean_interval(0.5) == pytest.approx(
        (special.expit(-1.0), special.expit(1.0))
    )  # pooled: 18th of 18
    few = prediction.Selection(
        prediction.FIXED_SETTINGS, pd.DataFrame(), scores[:12], np.array([]), np.array([]), sizes[:12]
    )
    assert few.mean_interval(0.5, 3e9) == (0.0, 1.0)


def test_fit_evaluate_predict_and_the_notebooks_apply_the_answer_in_subject_policy_in_one_place(tmp_path, monkeypatch):
    """`smi fit`, `smi evaluate`, `smi predict` (through their library pipelines) and the notebooks all leave out
    the answer-in-subject facts through release.apply_answer_in_subject, with the one parameter's value."""
    from pathlib import Path

    from synthetic_release import write_release

    accuracies = synthetic_accuracies(n_facts=150)
    release_dir = tmp_path / "release"
    table = formats.load_models(write_release(accuracies, release_dir))
    calls = []
    real = release.apply_answer_in_subject

    def spy(frame, answer_in_subject):
        calls.append(answer_in_subject)
        return real(frame, answer_in_subject)

    monkeypatch.setattr(release, "apply_answer_in_subject", spy)
    kept_fit = regression.fit_release(release_dir, table, answer_in_subject="keep")[1]
    dropped_fit = regression.fit_release(release_dir, table, answer_in_subject="drop")[1]
    assert calls == ["keep"] * len(table) + ["drop"] * len(table)
    assert (dropped_fit["n_facts"] < kept_fit["n_facts"]).all()  # the synthetic release has such facts
    calls.clear()
    evaluation = prediction.evaluate_release(
        release_dir, table, "leave-one-corpus-out", tmp_path / "evaluation", "drop", gbm_iterations=5, bootstrap=10
    )
    assert (
        calls == ["drop"]
        and evaluation.dropped == release.answer_written_in_subject(accuracies.drop_duplicates("idx")).sum()
    )
    record = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert record["answer_in_subject"] == "drop"
    calls.clear()
    counts = accuracies[accuracies["model"] == table["name"].iloc[0]].drop(columns=["model", "acc"])
    prediction.predict_new_model(release_dir, counts, 3e9, table, gbm_iterations=5, answer_in_subject="keep")
    assert calls == ["keep"]
    with pytest.raises(SmiError, match="unknown answer_in_subject value 'yes'; valid values: keep, drop"):
        real(accuracies, "yes")
    # the notebooks: no frame is cut by hand with a mask of answer_written_in_subject
    notebooks = sorted((Path(__file__).parents[1] / "notebooks").glob("0*.ipynb"))
    users = []
    for path in notebooks:
        code = "\n".join(
            "".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"
        )
        masks = re.findall(r"(\w+)\s*=\s*release\.answer_written_in_subject\(", code)
        for mask in masks:
            assert not re.search(rf"\[\s*~\s*{mask}\b|\.loc\[\s*~\s*{mask}\b", code), (path.name, mask)
        if re.search(r"release\.apply_answer_in_subject\(|\banswer_in_subject=(\"|answer_in_subject)", code):
            users.append(path.name[:2])
    assert users == ["03", "04", "05", "06"]
