"""Hostile input at the output paths of count, probe, lab train, lab run and evaluate.

Links planted where a command writes (its lock, partial file, temporaries, output), a
malicious checkpoint, damaged weights, a foreign folder, a second run racing the first,
numbers too large for their type: no file outside the command's own is changed, nothing
read from a file runs, and each run completes correctly or stops with one line (exit 2).
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from smi import files, formats, locks, probing, testing
from smi.errors import SmiError
from smi.lab import corpus as lab_corpus
from smi.lab import model as lab_model
from smi.lab import power, train
from smi.lab import run as lab_run
from smi.lab import settings as lab_settings

TINY = lab_settings.CorpusSettings(people=10, organisations=2, max_stated=16, max_extra_docs=4, max_background=4)
#: A few optimiser steps of the smallest size.
FAST = train.TrainSettings(epochs=0.2, batch_size=8)
FACTS = [
    {"idx": 1, "subj": "Paris", "rel": "capital", "obj": "France"},
    {"idx": 2, "subj": "Rome", "rel": "capital", "obj": "Italy"},
    {"idx": 3, "subj": "Marie Curie", "rel": "born", "obj": "Warsaw"},
    {"idx": 4, "subj": "Alan Turing", "rel": "born", "obj": "London"},
]
TEMPLATES = {"capital": ["[S] is the capital of", "[S], capital of"], "born": ["[S] was born in"]}
USERS_TEXT = "a draft of a thesis\n"


def users_file(folder: Path, name: str = "thesis.txt") -> Path:
    """A file of the user's that no command may change."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(USERS_TEXT)
    return path


def lock_of(out: Path) -> Path:
    """The lock file of an output (``OUT.lock``)."""
    return out.with_name(out.name + ".lock")


def unchanged(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and path.read_text() == USERS_TEXT


def one_line(code: int, err: str, *parts: str) -> str:
    """Assert a one-line refusal with exit 2 holding every part; return the line."""
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert all(part in err for part in parts), err
    return err


@contextmanager
def held_elsewhere(out: Path):
    """Hold ``out``'s lock in another thread (as another run would) during the block."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with locks.output_lock(out, "another test run"):
            taken.set()
            done.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(30)
    try:
        yield
    finally:
        done.set()
        thread.join()


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "corpus"
    lab_corpus.write_corpus(power.generate_corpus(TINY), out)
    return out


@pytest.fixture(scope="module")
def probe_inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("probe")
    model = testing.save_tiny_model(
        folder / "model", testing.facts_vocabulary(pd.DataFrame(FACTS), TEMPLATES), architecture="gpt_neox", seed=1
    )
    (folder / "facts.json").write_text(json.dumps(FACTS))
    (folder / "templates.json").write_text(json.dumps(TEMPLATES))
    return {"model": model, "facts": folder / "facts.json", "templates": folder / "templates.json"}


def probe_argv(inputs: dict[str, Path], out: Path, samples: int = 2, seed: int = 0) -> list:
    return [
        "probe",
        "--model",
        inputs["model"],
        "--facts",
        inputs["facts"],
        "--templates",
        inputs["templates"],
        "--out",
        out,
        "--samples",
        samples,
        "--seed",
        seed,
        "--max-new-tokens",
        2,
        "--no-progress",
    ]


def count_argv(corpus: Path, out: Path) -> list:
    return ["count", "--facts", corpus / "facts.json", "--out", out, "--no-progress", corpus / "corpus.jsonl"]


def train_argv(corpus: Path, out: Path, *extra) -> list:
    return [
        "lab",
        "train",
        "--corpus",
        corpus,
        "--size",
        "xs",
        "--out",
        out,
        "--epochs",
        "0.2",
        "--no-progress",
        *extra,
    ]


# --------------------------------------------------------------------------- links


def test_count_never_writes_through_a_link(tmp_path, tiny_corpus, run_cli):
    out = tmp_path / "counts.csv"
    victim = users_file(tmp_path / "home")
    lock_of(out).symlink_to(victim)
    one_line(*run_cli(*count_argv(tiny_corpus, out))[::2], "counts.csv.lock", "symbolic link")
    assert unchanged(victim) and not out.exists()

    lock_of(out).unlink()
    out.symlink_to(victim)  # the output itself, and a link with a temporary's name
    other = users_file(tmp_path / "home", "notes.txt")
    planted = tmp_path / ".counts.csv.abcd1234.tmp"
    planted.symlink_to(other)
    code, _, err = run_cli(*count_argv(tiny_corpus, out))
    assert code == 0, err
    assert unchanged(victim) and unchanged(other) and planted.is_symlink()
    assert not out.is_symlink() and "time_seqs" in out.read_text()


def test_probe_never_writes_through_a_link(tmp_path, probe_inputs, run_cli):
    out = tmp_path / "out.json"
    victim = users_file(tmp_path / "home")
    for planted in (probing.partial_path(out), lock_of(out)):
        planted.symlink_to(victim)
        one_line(*run_cli(*probe_argv(probe_inputs, out))[::2], planted.name, "symbolic link")
        assert unchanged(victim) and not out.exists()
        planted.unlink()
    out.symlink_to(victim)
    code, _, err = run_cli(*probe_argv(probe_inputs, out))
    assert code == 0, err
    assert unchanged(victim) and not out.is_symlink() and len(json.loads(out.read_text())) == len(FACTS)


def test_lab_train_and_run_and_evaluate_never_write_through_their_lock(tmp_path, tiny_corpus, run_cli):
    victim = users_file(tmp_path / "home")
    cases = {
        tmp_path / "model": train_argv(tiny_corpus, tmp_path / "model"),
        tmp_path / "run": ["lab", "run", "--out", tmp_path / "run", "--quick", "--corpus", tiny_corpus],
        tmp_path / "prediction": ["evaluate", "--scheme", "leave-one-model-out", "--out", tmp_path / "prediction"],
    }
    for out, argv in cases.items():
        lock_of(out).symlink_to(victim)
        one_line(*run_cli(*argv)[::2], f"{out.name}.lock", "symbolic link")
        assert unchanged(victim)
    assert not (tmp_path / "model").exists()


def test_a_checkpoint_link_is_not_followed(tmp_path, tiny_corpus, capsys):
    victim = users_file(tmp_path / "home")
    out = tmp_path / "model"
    train.checkpoint_path(out).symlink_to(victim)
    with pytest.raises(KeyboardInterrupt):  # stops after saving a checkpoint, where the link was
        train.train_model(tiny_corpus, "xs", out, FAST, progress=False, stop_after_steps=1)
    assert unchanged(victim) and train.checkpoint_path(out).is_file() and not train.checkpoint_path(out).is_symlink()
    assert "symbolic link" in capsys.readouterr().err


# --------------------------------------------------------------------------- folders not the command's


def test_lab_train_refuses_a_folder_it_did_not_make(tmp_path, tiny_corpus, run_cli):
    folder = tmp_path / "D"
    thesis = users_file(folder)
    mode = folder.stat().st_mode
    one_line(*run_cli(*train_argv(tiny_corpus, folder))[::2], "--out", "did not write")
    assert unchanged(thesis) and folder.stat().st_mode == mode and sorted(os.listdir(folder)) == ["thesis.txt"]
    link = tmp_path / "link"
    link.symlink_to(folder)
    one_line(*run_cli(*train_argv(tiny_corpus, link))[::2], "--out", "symbolic link")
    assert unchanged(thesis)
    assert not any(name.startswith(".D.") for name in os.listdir(tmp_path))  # no temporary left either


def test_lab_train_replaces_only_its_own_folder(tmp_path, tiny_corpus):
    out = tmp_path / "model"
    first = train.train_model(tiny_corpus, "xs", out, FAST, progress=False)
    assert files.made_by(out, train.TRAIN_COMMAND) and oct(out.stat().st_mode & 0o777) != oct(0o700)
    again = train.train_model(tiny_corpus, "xs", out, train.TrainSettings(epochs=1.0, batch_size=8), progress=False)
    assert not again.reused and again.steps > first.steps and files.made_by(out, train.TRAIN_COMMAND)


@pytest.mark.slow  # more than 10 s
def test_lab_run_stops_before_a_foreign_model_folder(tmp_path, tiny_corpus, run_cli):
    out = tmp_path / "run"
    thesis = users_file(out / "models" / "xs")
    code, _, err = run_cli("lab", "run", "--out", out, "--quick", "--corpus", tiny_corpus, "--no-progress")
    one_line(code, err.splitlines()[-1] + "\n", "xs", "--out", "did not write")
    assert unchanged(thesis) and sorted(os.listdir(out / "models" / "xs")) == ["thesis.txt"]


def test_outputs_in_the_place_of_a_folder_are_one_line(tmp_path, tiny_corpus, probe_inputs, run_cli):
    for argv in (count_argv(tiny_corpus, tmp_path / "c.csv"), probe_argv(probe_inputs, tmp_path / "c.csv")):
        thesis = users_file(tmp_path / "c.csv")
        one_line(*run_cli(*argv)[::2], "c.csv", "folder")
        assert unchanged(thesis)
    (tmp_path / "e").write_text(USERS_TEXT)
    one_line(
        *run_cli("evaluate", "--scheme", "leave-one-model-out", "--out", tmp_path / "e")[::2], "--out must be a folder"
    )
    assert unchanged(tmp_path / "e")


# --------------------------------------------------------------------------- one run per output


def test_a_second_run_into_one_output_stops_at_once(tmp_path, tiny_corpus, probe_inputs, run_cli):
    cases = {
        tmp_path / "counts.csv": count_argv(tiny_corpus, tmp_path / "counts.csv"),
        tmp_path / "probe.json": probe_argv(probe_inputs, tmp_path / "probe.json"),
        tmp_path / "model": train_argv(tiny_corpus, tmp_path / "model"),
        tmp_path / "run": ["lab", "run", "--out", tmp_path / "run", "--quick", "--corpus", tiny_corpus],
        tmp_path / "prediction": ["evaluate", "--scheme", "leave-one-model-out", "--out", tmp_path / "prediction"],
    }
    for out, argv in cases.items():
        with held_elsewhere(out):
            one_line(*run_cli(*argv)[::2], str(out), "is writing this output", "another test run")
        assert not out.is_file() and not (out / "summary.json").exists()


def test_two_concurrent_probe_runs_never_mix(tmp_path, probe_inputs, capsys):
    """Two `smi probe` runs of other settings into one --out, started together ten times: the output is
    always exactly one run's, and a run that overlaps the other is refused by the lock."""
    from smi.cli import main

    expected = {}
    for samples, seed in ((2, 0), (3, 1)):
        reference = tmp_path / f"reference-{samples}.json"
        assert main([str(a) for a in probe_argv(probe_inputs, reference, samples, seed)]) == 0
        expected[samples] = reference.read_text()
    out = tmp_path / "shared.json"
    refused = 0
    for _ in range(10):
        out.unlink(missing_ok=True)
        barrier, codes = threading.Barrier(2), {}

        def run(samples: int, seed: int, barrier=barrier, codes=codes) -> None:
            barrier.wait()
            codes[samples] = main([str(a) for a in probe_argv(probe_inputs, out, samples, seed)])

        threads = [threading.Thread(target=run, args=args) for args in ((2, 0), (3, 1))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(codes.values()) <= {0, 2} and 0 in codes.values(), codes
        assert out.read_text() in expected.values()
        if 2 in codes.values():
            refused += 1
            assert out.read_text() == expected[next(s for s, c in codes.items() if c == 0)]
        assert not probing.partial_path(out).exists() and not lock_of(out).exists()
    err = capsys.readouterr().err
    assert err.count("another smi probe is writing this output") == refused
    assert refused >= 8  # runs started together overlap, and the lock refuses the second (10 of 10 here)
    assert "Traceback" not in err


# --------------------------------------------------------------------------- what is read back is checked


class Echo:
    """A generator answering every prompt with the same text, remembering what it was asked."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], seeds: list[int]) -> list[str]:
        self.prompts += prompts
        return ["France or London" for _ in prompts]


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("acc", 5.0, "field 'acc' must be a finite number in [0, 1]"),
        ("acc", float("nan"), "field 'acc' must be a finite number in [0, 1]"),
        ("acc", "abc", "field 'acc' must be a finite number in [0, 1]"),
        ("acc", 0.3, "is not a share of"),
        ("subj", "Berlin", "field 'subj' is 'Berlin'"),
        ("n_answers", 99, "field 'n_answers' must be"),
        ("secret", 1, "unexpected field 'secret'"),
    ],
)
def test_a_resumed_probe_rechecks_every_record(tmp_path, field, value, problem):
    facts = pd.DataFrame(FACTS)
    settings = probing.ProbeSettings(samples=2, max_new_tokens=2)
    out = tmp_path / "out.json"
    whole = probing.probe(facts, TEMPLATES, Echo(), settings, out, model="echo", progress=False)
    header = probing.run_header(facts, TEMPLATES, settings, probing.generator_fingerprint(Echo(), "echo"), False)
    damaged = [dict(record) for record in whole]
    damaged[1][field] = value
    lines = [json.dumps(item) for item in (header, *damaged)]
    probing.partial_path(out).write_text("\n".join(lines) + "\n")
    out.unlink()
    echo, notes = Echo(), []
    again = probing.probe(facts, TEMPLATES, echo, settings, out, model="echo", progress=False, say=notes.append)
    assert again == whole and json.loads(out.read_text()) == whole
    assert len(echo.prompts) == len(TEMPLATES["capital"]) * 2  # only the damaged fact (Rome) probed again
    assert "line 3" in notes[0] and problem in notes[0]


def test_a_malicious_checkpoint_is_refused_without_running(tmp_path, tiny_corpus, capsys):
    import torch

    out = tmp_path / "model"
    ran = tmp_path / "the checkpoint ran code"

    class Payload:
        def __reduce__(self):
            return (open, (str(ran), "w"))

    key = train.training_key(tiny_corpus, lab_model.model_size("xs"), FAST, "cpu")
    state = {"key": key, "step": 1, "tokens": 1, "seconds": 1.0, "losses": [1.0], "model": {}, "optimizer": {}}
    torch.save({**state, "payload": Payload()}, train.checkpoint_path(out))
    result = train.train_model(tiny_corpus, "xs", out, FAST, progress=False)
    assert not ran.exists()
    assert result.resumed_from_step == 0 and not train.checkpoint_path(out).exists()
    assert "unreadable as a training state" in capsys.readouterr().err


def test_damaged_weights_are_trained_again(tmp_path, tiny_corpus, capsys):
    out = tmp_path / "model"
    train.train_model(tiny_corpus, "xs", out, FAST, progress=False)
    weights = out / "model.safetensors"
    good = weights.read_bytes()
    os.truncate(weights, 100)
    result = train.train_model(tiny_corpus, "xs", out, FAST, progress=False)
    assert not result.reused and "model.safetensors changed since it was written" in capsys.readouterr().err
    assert weights.read_bytes() == good
    assert train.train_model(tiny_corpus, "xs", out, FAST, progress=False).reused


def test_a_diverging_training_saves_nothing(tmp_path, tiny_corpus, run_cli):
    out = tmp_path / "model"
    with pytest.raises(SmiError, match="diverged at step"):
        train.train_model(
            tiny_corpus, "xs", out, train.TrainSettings(epochs=1.0, batch_size=8, learning_rate=1e30), progress=False
        )
    assert sorted(os.listdir(tmp_path)) == []  # no model, no checkpoint, no temporary, no lock
    one_line(*run_cli(*train_argv(tiny_corpus, out, "--learning-rate", "inf"))[::2], "--learning-rate must be")


# --------------------------------------------------------------------------- bounds and numbers


@pytest.mark.parametrize(
    "argv, option",
    [
        (["lab", "corpus", "--max-extra-docs", "1000000000"], "--max-extra-docs"),
        (["lab", "corpus", "--people", "1000000000"], "--people"),
        (["lab", "corpus", "--seed", "-1"], "--seed"),
        (["lab", "train", "--block-size", "100000"], "--block-size"),
        (["lab", "train", "--batch-size", "100000"], "--batch-size"),
        (["lab", "train", "--epochs", "1e9"], "--epochs"),
        (["lab", "train", "--tokens", "1000000000000"], "--tokens"),
        (["lab", "train", "--seed", "-1"], "--seed"),
        (["lab", "run", "--quick", "--seed", "-1"], "--seed"),
        (["lab", "run", "--quick", "--epochs", "1e9"], "--epochs"),
    ],
)
def test_size_knobs_and_seeds_are_bounded(tmp_path, tiny_corpus, run_cli, argv, option):
    out = tmp_path / "out"
    if argv[1] == "train":
        argv = [*argv, "--corpus", tiny_corpus, "--size", "xs"]
    one_line(*run_cli(*argv, "--out", out)[::2], option, "must be")
    assert not out.exists()


def test_numbers_too_large_name_their_file_and_value(tmp_path):

    header = "idx,subj,rel,obj,time_seqs,time_subj,time_obj,time_s1j1,time_s1j0,time_s0j1,time_s0j0"
    for seqs, shown in (("9223372036854775813", "9223372036854775813"), ("1e30", "1e+30")):
        counts = tmp_path / "counts.csv"
        counts.write_text(f"{header}\n0,a,r,b,{seqs},1,1,1,0,0,5\n")
        with pytest.raises(SmiError) as refused:
            probing.load_counts(counts)
        message = str(refused.value)
        assert message.startswith(f"{counts}: line 2: field 'time_seqs' must be a non-negative integer count"), message
        assert f"got {shown} (at most {2**53})" in message
    models = tmp_path / "models.csv"
    models.write_text("name,hub_id,series,parameters,corpus,tokens\nm1,x/m1,s,1e20,c,\nm2,x/m2,s,2e9,c,\n")
    with pytest.raises(SmiError, match=r"models.csv: line 2: model 'm1' has size 1e\+20: .* at most"):
        formats.load_models(models)


def test_a_manifest_path_cannot_leave_the_data_folder(tmp_path):
    from smi import data

    for path in ("../../outside.txt", "/etc/outside.txt", "a/../../outside.txt"):
        entry = data.ManifestEntry("smi-release", path, "0" * 64)
        with pytest.raises(SmiError, match="must be a relative path inside"):
            data.fetch_entry(entry, tmp_path / "data", tmp_path / "mirror")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "data").exists()


# --------------------------------------------------------------------------- after an interruption


def test_temporaries_of_a_killed_run_are_removed_by_the_next_run_only(tmp_path, tiny_corpus):
    out = tmp_path / "model"
    killed = tmp_path / ".model.k1ll3d00.tmp"  # what a killed `smi lab train` leaves: its temporary folder
    killed.mkdir()
    (killed / ".smi-made-by").write_text("smi lab train\n")  # marked as the command's when it was made
    (killed / "model.safetensors").write_text("half")
    users = tmp_path / ".model.abcd1234.tmp"  # the same pattern, not marked as the command's
    users_file(users)
    other = tmp_path / ".model.0therrun.tmp"  # another command's
    other.mkdir()
    (other / ".smi-made-by").write_text("smi lab run\n")
    train.train_model(tiny_corpus, "xs", out, FAST, progress=False)
    assert not killed.exists() and unchanged(users / "thesis.txt") and other.is_dir()


def test_sigterm_removes_the_temporary_folder(tmp_path, tiny_corpus):
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "model"
    argv = [sys.executable, "-m", "smi", "lab", "train", "--corpus", str(tiny_corpus), "--size", "xs"]
    argv += ["--out", str(out), "--epochs", "50", "--no-progress"]
    process = subprocess.Popen(argv, env={**os.environ, "PYTHONPATH": str(root / "lib")}, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".model.*.tmp")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert not list(tmp_path.glob(".model.*.tmp")) and not out.exists() and not lock_of(out).exists()


def test_the_labs_keys_follow_its_code(tmp_path):
    """Editing the code of lib/smi/lab (not a comment) gives new training, probe and prediction keys."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "lib"
    shutil.copytree(Path(train.__file__).parents[1], copy / "smi")
    probe = "from smi.lab import run, train; print(train.training_code_sha256(), run.lab_code_sha256())"

    def keys() -> list[str]:
        env = {**os.environ, "PYTHONPATH": str(copy)}
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    before = [train.training_code_sha256(), lab_run.lab_code_sha256()]  # the copy's code is the same
    corpus = copy / "smi" / "lab" / "corpus.py"
    corpus.write_text(corpus.read_text() + "\n# a comment\n")
    assert keys() == before
    corpus.write_text(corpus.read_text() + "\n_EDITED = 1\n")
    after = keys()
    assert after[0] != before[0] and after[1] != before[1]


def test_a_saved_fold_with_a_non_finite_prediction_is_recomputed(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from smi import prediction
    from synthetic_release import synthetic_accuracies

    accuracies = synthetic_accuracies(80, corpora={"alpha": 2e6, "beta": 3e7, "gamma": 4e8})
    folds = tmp_path / "folds"
    reference = prediction.evaluate(accuracies, "leave-one-corpus-out", 10, checkpoint_dir=folds)
    capsys.readouterr()
    saved = sorted(folds.glob("*.parquet"))[0]
    table = pd.read_parquet(saved)
    table.loc[0, "pred_best"] = float("nan")  # the right key over a prediction that is not a number
    edited = pa.Table.from_pandas(table, preserve_index=False)
    pq.write_table(edited.replace_schema_metadata(pq.read_schema(saved).metadata), saved)
    again = prediction.evaluate(accuracies, "leave-one-corpus-out", 10, checkpoint_dir=folds, progress=True)
    assert again.equals(reference)
    assert capsys.readouterr().err.count("not a finite number, recomputing") == 1


@pytest.mark.parametrize(
    "option, value, limit",
    [("--samples", "100000", "from 1 to 1,000 (got 100000)"), ("--max-new-tokens", "1000000", "from 1 to 1,024")],
)
def test_probe_size_knobs_are_bounded(tmp_path, probe_inputs, run_cli, option, value, limit):
    out = tmp_path / "out.json"
    argv = [*probe_argv(probe_inputs, out), option, value]
    one_line(*run_cli(*argv)[::2], f"{option} must be {limit}")
    assert not out.exists()
    many = {"capital": [f"[S] is the capital of (variant {n})" for n in range(1001)], "born": ["[S] was born in"]}
    templates = tmp_path / "templates.json"
    templates.write_text(json.dumps(many))
    argv = probe_argv({**probe_inputs, "templates": templates}, out)
    one_line(*run_cli(*argv)[::2], "templates.json: relation 'capital' has 1001 templates; at most 1000")
    assert not out.exists()


def test_a_figure_replaces_a_link_instead_of_writing_through_it(tmp_path):
    import matplotlib.pyplot as plt

    from smi import plots

    victim = users_file(tmp_path / "home")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "f.png").symlink_to(victim)
    fig, _ = plt.subplots()
    paths = plots.save_figure(fig, "f", tmp_path / "figures")
    plt.close(fig)
    assert unchanged(victim)
    assert [p.read_bytes()[:4] for p in paths] == [b"\x89PNG", b"%PDF"] and not paths[0].is_symlink()


def test_evaluate_removes_what_a_killed_run_left_and_nothing_else(tmp_path, run_cli):
    from smi import prediction
    from synthetic_release import synthetic_accuracies, write_release

    table = write_release(synthetic_accuracies(60, corpora={"alpha": 2e6, "beta": 3e7, "gamma": 4e8}), tmp_path / "r")
    out = tmp_path / "prediction"
    out.mkdir()
    first = prediction.evaluation_paths(out)[0]
    killed = out / f".{first.name}.k1ll3d00.tmp"  # a killed run's temporary of its first output
    killed.write_text("half")
    users = users_file(out, f".{first.name}.notes.tmp")  # not a name the command makes
    argv = ["evaluate", "--release", tmp_path / "r", "--models-table", table, "--scheme", "leave-one-corpus-out"]
    code, _, err = run_cli(*argv, "--out", out, "--bootstrap", "10", "--gbm-iterations", "10")
    assert code == 0, err
    assert not killed.exists() and unchanged(users) and first.is_file()
