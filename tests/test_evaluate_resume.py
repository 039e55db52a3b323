"""``smi evaluate`` and ``smi predict`` never return stale or partial results (issue 11).

Every saved fold carries a key of the data, settings and code it was made from; a rerun into the
same ``--out`` after any of them changed recomputes the fold and says so. Outputs are written
under temporary names and renamed when complete; bad options stop before any work with one line.
The inputs are a small synthetic release (three corpora, two models each) written to disk.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from smi import prediction
from smi.errors import SmiError
from smi.hashing import file_sha256
from synthetic_release import predict_argv, synthetic_accuracies, write_release

SMALL_CORPORA = {"alpha": 2e6, "beta": 3e7, "gamma": 4e8}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Boosting on small data spends its time synchronising OpenMP threads on a busy machine; use one.
    (threadpoolctl limits only the libraries already loaded, so scikit-learn's OpenMP is loaded first.)"""
    import sklearn.ensemble  # noqa: F401

    with threadpool_limits(1):
        yield


@pytest.fixture
def small_release(tmp_path):
    """A release folder of six synthetic models (150 facts each) and its models table."""
    table = write_release(synthetic_accuracies(100, corpora=SMALL_CORPORA), tmp_path / "release")
    return tmp_path / "release", table


def evaluate_argv(release, table, out, *extra):
    return [
        "evaluate",
        "--release",
        release,
        "--models-table",
        table,
        "--scheme",
        "leave-one-corpus-out",
        "--out",
        out,
        "--bootstrap",
        "10",
        "--gbm-iterations",
        "10",
        *extra,
    ]


def outputs(out):
    return {name: (out / name).read_bytes() for name in prediction.EVALUATION_FILES}


def test_rerun_after_correcting_a_parameter_count_recomputes(small_release, run_cli, tmp_path):
    """Issue 11: the folds were keyed on model names, row count and the sum of accuracies, so a corrected
    parameter count (or any other change that keeps those) returned the old predictions with exit 0."""
    release, table = small_release
    out = tmp_path / "shared-out"
    code, _, err = run_cli(*evaluate_argv(release, table, out))
    assert code == 0, err
    before = outputs(out)

    models = pd.read_csv(table)
    models.loc[models["name"] == "alpha-3e+09", "parameters"] = 1_500_000_000  # a corrected size
    models.to_csv(table, index=False)
    code, _, rerun_err = run_cli(*evaluate_argv(release, table, out))
    assert code == 0, rerun_err
    code, _, err = run_cli(*evaluate_argv(release, table, tmp_path / "fresh"))
    assert code == 0 and "recomputing" not in err
    assert outputs(out) == outputs(tmp_path / "fresh")  # the old code returned the stale predictions here
    assert outputs(out)["predictions.csv"] != before["predictions.csv"]
    for corpus in SMALL_CORPORA:  # every fold trains on, or holds out, the corrected model
        assert f"fold {corpus}: inputs changed (data), recomputing" in rerun_err
    summary = pd.read_csv(out / "summary.csv")
    assert (summary.loc[summary["model"] == "alpha-3e+09", "parameters"] == 1_500_000_000).all()


@pytest.mark.slow
def test_unchanged_rerun_reuses_every_fold_and_other_counts_or_settings_recompute(small_release, run_cli, tmp_path):
    release, table = small_release
    out = tmp_path / "out"
    assert run_cli(*evaluate_argv(release, table, out))[0] == 0
    first = outputs(out)
    folds = sorted((out / "folds").glob("*.parquet"))
    assert len(folds) == len(SMALL_CORPORA)
    written = {path: path.stat().st_mtime_ns for path in folds}
    code, _, err = run_cli(*evaluate_argv(release, table, out))
    assert code == 0 and "recomputing" not in err
    assert outputs(out) == first
    assert {path: path.stat().st_mtime_ns for path in folds} == written  # reused, not rewritten

    path = release / "infer" / "merge_outputs" / "beta-3e+08.json"
    records = json.loads(path.read_text())
    for record in records[:30]:  # other corpus counts; same models, accuracies and number of rows
        record["time_subj"] += 5
        record["time_s1j0"] += 5
        record["time_s0j0"] -= 5
    path.write_text(json.dumps(records))
    code, _, err = run_cli(*evaluate_argv(release, table, out))
    assert code == 0 and err.count("inputs changed (data), recomputing") == len(SMALL_CORPORA)
    assert run_cli(*evaluate_argv(release, table, tmp_path / "fresh"))[0] == 0
    assert outputs(out) == outputs(tmp_path / "fresh")

    code, _, err = run_cli(*evaluate_argv(release, table, out, "--seed", "1"))
    assert code == 0 and err.count("inputs changed (settings), recomputing") == len(SMALL_CORPORA)
    record = json.loads((out / "evaluation.json").read_text())
    assert record["files"] == {name: file_sha256(out / name) for name in ("predictions.csv", "summary.csv")}
    assert record["key"]["settings"]["seed"] == 1 and record["answer_in_subject"] == "drop"


def test_folds_from_other_code_or_damaged_files_are_recomputed(monkeypatch, capsys, tmp_path):
    accuracies = synthetic_accuracies(80, corpora=SMALL_CORPORA)
    folds = tmp_path / "folds"
    reference = prediction.evaluate(accuracies, "leave-one-corpus-out", 10, checkpoint_dir=folds)
    capsys.readouterr()

    monkeypatch.setattr(prediction.evaluation, "fold_code_version", lambda: "another version of the code")
    assert prediction.evaluate(accuracies, "leave-one-corpus-out", 10, checkpoint_dir=folds).equals(reference)
    assert capsys.readouterr().err == ""  # recomputed silently: without progress nothing is reported
    monkeypatch.setattr(prediction.evaluation, "fold_code_version", lambda: "a third version of the code")
    again = prediction.evaluate(accuracies, "leave-one-corpus-out", 10, checkpoint_dir=folds, progress=True)
    assert again.equals(reference)
    assert capsys.readouterr().err.count("inputs changed (code), recomputing") == len(SMALL_CORPORA)

    saved = sorted(folds.glob("*.parquet"))
    saved[0].write_bytes(saved[0].read_bytes()[:100])  # cut short, e.g. by a copy that failed
    table = pd.read_parquet(saved[1])
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema_metadata = pq.read_schema(saved[1]).metadata  # the right key over edited predictions
    edited = pa.Table.from_pandas(table.iloc[:-1], preserve_index=False)
    pq.write_table(edited.replace_schema_metadata(schema_metadata), saved[1])
    again = prediction.evaluate(accuracies, "leave-one-corpus-out", 10, checkpoint_dir=folds, progress=True)
    assert again.equals(reference)
    err = capsys.readouterr().err
    assert "saved fold unreadable, recomputing" in err
    assert "saved fold does not match its held-out facts, recomputing" in err


def test_every_model_size_and_setting_enters_the_key():
    accuracies = synthetic_accuracies(60, corpora=SMALL_CORPORA)
    key = prediction.evaluation_key(accuracies, "leave-one-corpus-out", 10, 0)
    corrected = accuracies["parameters"].where(accuracies["model"] != "beta-6e+09", 5_000_000_000)
    resized = accuracies.assign(parameters=corrected)
    assert prediction.evaluation_key(resized, "leave-one-corpus-out", 10, 0)["data"] != key["data"]
    one_count = accuracies.copy()
    one_count.loc[7, "time_obj"] += 1
    assert prediction.evaluation_key(one_count, "leave-one-corpus-out", 10, 0)["data"] != key["data"]
    assert prediction.evaluation_key(accuracies, "leave-one-corpus-out", 11, 0)["settings"] != key["settings"]
    assert prediction.fold_key(key, "alpha") != prediction.fold_key(key, "beta")
    from smi import release

    kept = prediction.evaluation_key(
        release.apply_answer_in_subject(accuracies, "drop")[0], "leave-one-corpus-out", 10, 0
    )
    assert kept["data"] != key["data"]  # --answer-in-subject keep or drop: other rows, another key


# --------------------------------------------------------------------------- smi predict


@pytest.fixture
def new_corpus_counts(small_release, tmp_path):
    release, _ = small_release
    records = json.loads((release / "infer" / "merge_outputs" / "gamma-9e+08.json").read_text())
    path = tmp_path / "counts.json"
    path.write_text(json.dumps([{k: v for k, v in r.items() if k != "acc"} for r in records]))
    return path


@pytest.mark.parametrize("params", ["inf", "-inf", "nan", "1e400"])
def test_predict_refuses_a_non_finite_size_and_keeps_the_previous_output(
    small_release, new_corpus_counts, run_cli, tmp_path, params
):
    """Issue 11: `smi predict --params inf` exited 0 with empty predictions."""
    release, table = small_release
    out = tmp_path / "predicted.csv"
    assert run_cli(*predict_argv(release, table, new_corpus_counts, out))[0] == 0
    previous = out.read_bytes()
    argv = predict_argv(release, table, new_corpus_counts, out)
    argv[argv.index("--params") : argv.index("--params") + 2] = [f"--params={params}"]
    code, _, err = run_cli(*argv)
    assert code == 2 and "--params" in err and err.count("\n") == 1
    assert out.read_bytes() == previous


def test_predict_library_refuses_non_finite_sizes(small_release, new_corpus_counts):
    release, table = small_release
    counts = prediction.load_counts_file(new_corpus_counts)
    models = pd.read_csv(table)
    for params in (float("inf"), float("nan"), 1.0, "many"):
        with pytest.raises(SmiError, match=r"parameter|raw count"):
            prediction.predict_new_model(release, counts, params, models, 5)
    with pytest.raises(SmiError, match="no models"):
        prediction.predict_new_model(release, counts, 3e9, models.head(0), 5)


def test_a_failed_predict_leaves_the_previous_complete_output(
    small_release, new_corpus_counts, run_cli, tmp_path, monkeypatch
):
    """Issue 11: a killed `smi predict` rerun emptied the previous complete output (it wrote in place)."""
    release, table = small_release
    out = tmp_path / "predicted.csv"
    assert run_cli(*predict_argv(release, table, new_corpus_counts, out))[0] == 0
    previous = out.read_bytes()

    def killed_while_writing(frame, path, **kwargs):
        with open(path, "w") as handle:
            handle.write("idx,subj\n1,")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", killed_while_writing)
    code, _, _ = run_cli(*predict_argv(release, table, new_corpus_counts, out, "5e9"))
    assert code == 130
    assert out.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".predicted")] == []


# --------------------------------------------------------------------------- bad options: one line, nothing written


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--scheme": "leave-one-fact-out"}, "unknown scheme"),
        ({"--models": "no-such-model"}, "unknown model 'no-such-model'"),
        ({"--seed": "-1"}, "--seed must be from 0 to 4,294,967,295 (got -1)"),
        ({"--bootstrap": "100000000"}, "--bootstrap must be from 10"),
        ({"--gbm-iterations": "0"}, "--gbm-iterations must be at least 1"),
        ({"table": "header only"}, "empty models table"),
        ({"table": "empty file"}, "empty models table"),
        ({"out": "a file"}, "--out must be a folder"),
        ({"out": "under a file"}, "a parent of it is a file"),
        ({"out": "summary.csv is a folder"}, "summary.csv: output is a folder"),
    ],
)
def test_evaluate_bad_options_are_one_line_before_any_work(small_release, run_cli, tmp_path, change, message):
    release, table = small_release
    out = tmp_path / "out"
    if change.get("table") == "header only":
        table.write_text("name,series,parameters,corpus\n")
    elif change.get("table") == "empty file":
        table.write_text("")
    if change.get("out") == "a file":
        out.write_text("not a folder")
    elif change.get("out") == "under a file":
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "out"
    elif change.get("out") == "summary.csv is a folder":
        (out / "summary.csv").mkdir(parents=True)
    argv = [str(a) for a in evaluate_argv(release, table, out)]
    for option, value in change.items():
        if option.startswith("--"):
            argv = argv[: argv.index(option)] + argv[argv.index(option) + 2 :] if option in argv else argv
            argv += [option, value]
    code, _, err = run_cli(*argv)
    assert code == 2 and message in err and err.startswith("smi: error: ") and err.count("\n") == 1, err
    if out.is_dir():
        assert not (out / "predictions.csv").exists() and not list((out / "folds").glob("*.parquet"))


@pytest.mark.parametrize(
    ("out_kind", "message"),
    [("folder", "output is a folder"), ("under a file", "a parent of it is a file")],
)
def test_predict_refuses_an_unusable_out_before_fitting(
    small_release, new_corpus_counts, run_cli, tmp_path, out_kind, message, monkeypatch
):
    release, table = small_release
    if out_kind == "folder":
        out = tmp_path / "outdir"
        out.mkdir()
    else:
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "predicted.csv"
    monkeypatch.setattr(prediction.io, "fit_predictors", lambda *a, **k: pytest.fail("fitted before checking --out"))
    code, _, err = run_cli(*predict_argv(release, table, new_corpus_counts, out))
    assert code == 2 and message in err and err.count("\n") == 1


def test_the_selection_grid_and_the_interval_settings_enter_the_key(monkeypatch):
    """Issue 13: a fold saved with another grid of settings, coverage or bins of the intervals is not reused."""
    accuracies = synthetic_accuracies(30, corpora=SMALL_CORPORA)
    key = prediction.evaluation_key(accuracies, "leave-one-corpus-out", 10, 0)
    monkeypatch.setattr(prediction.settings, "TREND_GRID", (0.0, 1e9))
    assert prediction.evaluation_key(accuracies, "leave-one-corpus-out", 10, 0)["settings"] != key["settings"]
    monkeypatch.undo()
    monkeypatch.setattr(prediction.intervals, "COVERAGE", 0.8)
    assert prediction.evaluation_key(accuracies, "leave-one-corpus-out", 10, 0)["settings"] != key["settings"]
    monkeypatch.undo()
    tokens = accuracies.assign(tokens=accuracies["parameters"] * 20.0)  # training tokens are part of the data
    assert prediction.evaluation_key(tokens, "leave-one-corpus-out", 10, 0)["data"] != key["data"]
