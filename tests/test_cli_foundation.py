"""`smi data fetch` and `smi fit` end to end, including bad input."""

import hashlib
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from smi import counting, data, formats, prediction, regression
from smi.errors import SmiError


def make_mirror(tmp_path, files):
    """A mirror laid out as <release>/<path> holding the given bytes, and matching manifest entries."""
    mirror = tmp_path / "mirror"
    entries = []
    for (release_name, path), content in files.items():
        target = mirror / release_name / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        entries.append(data.ManifestEntry(release_name, path, hashlib.sha256(content).hexdigest()))
    return mirror, entries


def test_fetch_copies_verifies_and_is_a_no_op_when_complete(tmp_path, monkeypatch):
    mirror, entries = make_mirror(tmp_path, {("smi-release", "a/b.json"): b"[1]", ("pararel", "c.jsonl"): b"{}\n"})
    monkeypatch.setattr(data, "read_manifest", lambda: entries)
    dest = tmp_path / "dest"
    assert data.fetch(dest, mirror, progress=False) == {"written": 2, "kept": 0}
    assert (dest / "smi-release" / "a" / "b.json").read_bytes() == b"[1]"
    assert data.fetch(dest, mirror, progress=False) == {"written": 0, "kept": 2}
    # a corrupted local copy is replaced
    (dest / "pararel" / "c.jsonl").write_bytes(b"tampered")
    assert data.fetch(dest, mirror, progress=False) == {"written": 1, "kept": 1}


def test_fetch_hash_mismatch_names_the_file_and_leaves_nothing_behind(tmp_path, monkeypatch):
    mirror, entries = make_mirror(tmp_path, {("smi-release", "x.json"): b"good"})
    (mirror / "smi-release" / "x.json").write_bytes(b"evil")
    monkeypatch.setattr(data, "read_manifest", lambda: entries)
    dest = tmp_path / "dest"
    with pytest.raises(SmiError, match=r"x\.json: SHA256 mismatch"):
        data.fetch(dest, mirror, progress=False)
    assert not list((dest / "smi-release").iterdir())  # no partial or temporary file


def test_fetch_missing_mirror_file_is_named(tmp_path, monkeypatch):
    mirror, entries = make_mirror(tmp_path, {("smi-release", "x.json"): b"good"})
    (mirror / "smi-release" / "x.json").unlink()
    monkeypatch.setattr(data, "read_manifest", lambda: entries)
    with pytest.raises(SmiError, match=r"x\.json: missing from the mirror"):
        data.fetch(tmp_path / "dest", mirror, progress=False)


def mirror_checksums(release_folder):
    """{path inside the release: sha256} from every SHA256SUMS file of a mirrored release.

    The top-level file lists the original files; files added later (``analysis/``) have their own
    SHA256SUMS in their folder, with paths relative to the release as well. A path listed twice fails.
    """
    listed = {}
    for sums in sorted(release_folder.rglob("SHA256SUMS")):
        for line in sums.read_text().splitlines():
            digest, path = line.split()
            path = path.removeprefix("./")
            assert path not in listed, f"{sums}: {path} listed twice"
            listed[path] = digest
    return listed


def test_manifest_covers_both_releases_and_matches_the_mirror():
    entries = data.read_manifest()
    releases = {entry.release for entry in entries}
    assert releases == {"smi-release", "pararel"}
    assert sum(entry.path.startswith("infer/merge_outputs/") for entry in entries) == 24
    assert sum(entry.path.startswith("analysis/tables/") for entry in entries) == 24
    assert {e.path for e in entries if e.path.startswith("analysis/main_tables/")} == {
        f"analysis/main_tables/{name}_table.xlsx" for name in ("main", "r2", "mse")
    }
    assert all(entry.url.startswith("https://raw.githubusercontent.com/") for entry in entries)
    mirror = data.default_mirror()
    if mirror is None:
        pytest.skip("no mirror")
    if (mirror / "smi-release" / "analysis").is_dir():
        assert (mirror / "smi-release" / "analysis" / "SHA256SUMS").is_file()
    for release_name in releases:
        listed = mirror_checksums(mirror / release_name)
        assert listed == {e.path: e.sha256 for e in entries if e.release == release_name}


@pytest.mark.slow
@pytest.mark.shared_data
def test_fit_command_writes_the_72_row_table(release_dir, tmp_path, run_cli):
    code, _out, err = run_cli("fit", "--release", release_dir, "--out", tmp_path)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "r2_bucketed.csv")
    assert list(table.columns) == regression.BUCKETED_COLUMNS
    assert len(table) == 72
    assert set(table.method) == {"CO-OCCUR", "MI", "SMI"}
    assert "| pythia-12b |" in (tmp_path / "r2_table.md").read_text()
    assert len(pd.read_csv(tmp_path / "r2_per_fact.csv")) == 72


def small_release(tmp_path, records, model="tiny-model"):
    """A release folder with one model output file."""
    folder = tmp_path / "release"
    path = folder / "infer" / "merge_outputs" / f"{model}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(records))
    table = tmp_path / "models.csv"
    table.write_text(f"name,series,parameters,corpus\n{model},tiny,1000000,toy\n")
    return folder, table


def fact(idx, s1j1, acc, **extra):
    record = {
        "idx": idx,
        "subj": f"s{idx}",
        "rel": "born",
        "obj": f"o{idx}",
        "time_seqs": 1000,
        "time_subj": 50,
        "time_obj": 60,
        "time_s1j1": s1j1,
        "time_s1j0": 50 - s1j1,
        "time_s0j1": 60 - s1j1,
        "time_s0j0": 890 + s1j1,
        "acc": acc,
    }
    record.update(extra)
    return record


def test_fit_on_a_small_release(tmp_path, run_cli):
    folder, table = small_release(
        tmp_path, [fact(i, s1j1, acc) for i, (s1j1, acc) in enumerate([(5, 0.1), (10, 0.3), (20, 0.5), (40, 0.8)])]
    )
    code, _out, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert code == 0, err
    result = pd.read_csv(tmp_path / "out" / "r2_bucketed.csv")
    assert len(result) == 3 and result.notna().all().all()


@pytest.mark.parametrize(
    "records, table_line, message",
    [
        (
            [{k: v for k, v in fact(0, 5, 0.1).items() if k != "time_obj"}, fact(1, 9, 0.2)],
            None,
            r"tiny-model\.json: record 0 \(idx 0\): missing field 'time_obj'",
        ),
        (
            [fact(0, 5, 0.1), fact(1, 9, 0.2)],
            "tiny-model,tiny,0,toy",
            r"models\.csv: line 2: model 'tiny-model' has size 0",
        ),
        (
            [fact(0, 0, 0.1), fact(1, 0, 0.2)],
            None,
            r"tiny-model\.json: all co-occurrence counts \(time_s1j1\) are zero",
        ),
        ([fact(0, 5, 0.1), fact(1, 9, 1.7)], None, r"record 1: field 'acc' must be in \[0, 1\]"),
        ([fact(0, 5, 0.1), fact(1, 5, 0.2)], None, r"two distinct buckets"),
    ],
)
def test_bad_release_input_gives_one_line_error(tmp_path, run_cli, records, table_line, message):
    folder, table = small_release(tmp_path, records)
    if table_line:
        table.write_text("name,series,parameters,corpus\n" + table_line + "\n")
    code, _out, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert code == 2
    error_lines = [line for line in err.splitlines() if line.startswith("smi: error: ")]
    assert len(error_lines) == 1 and err.rstrip("\n").endswith(error_lines[0]), err
    assert "Traceback" not in err
    assert pd.Series(error_lines).str.contains(message).all(), err
    assert not (tmp_path / "out" / "r2_bucketed.csv").exists()


def test_model_without_output_file_is_named(tmp_path, run_cli):
    folder, table = small_release(tmp_path, [fact(0, 5, 0.1)])
    table.write_text("name,series,parameters,corpus\nghost,tiny,1000000,toy\n")
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert code == 2 and "ghost.json: no output file for model 'ghost'" in err


def test_corpus_without_counts_file_is_named(tmp_path):
    from smi import release

    (tmp_path / "search" / "pile").mkdir(parents=True)
    (tmp_path / "search" / "pile" / "merge.json").write_text("[]")
    with pytest.raises(SmiError, match=r"no counts file for corpus 'c4' \(available: pile\)"):
        release.load_corpus_counts(tmp_path, "c4")


def test_console_script_and_module_entry_point_agree():
    smi_exe = shutil.which("smi", path=str(__import__("pathlib").Path(sys.executable).parent))
    as_module = subprocess.run([sys.executable, "-m", "smi", "--version"], capture_output=True, text=True)
    as_script = subprocess.run([smi_exe, "--version"], capture_output=True, text=True)
    assert as_module.returncode == as_script.returncode == 0
    assert as_module.stdout == as_script.stdout and as_module.stdout.startswith("smi ")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    text = (root / "environment.yml").read_text()
    lines = [line.strip()[2:] for line in text.split("dependencies:")[1].splitlines() if line.strip().startswith("- ")]
    pip_packages = set(lines) - {"pip", "pip:", "-e .", "python=3.11"}
    assert pip_packages == wanted
    assert "python=3.11" in lines


def test_atomic_output_renames_on_success_and_cleans_up_on_failure(tmp_path):
    from smi.files import atomic_output

    target = tmp_path / "sub" / "out.txt"
    with atomic_output(target) as temporary:
        temporary.write_text("complete")
    assert target.read_text() == "complete"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "complete"  # the previous complete version survives
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_an_error_raised_after_ctrl_c_is_reported_as_the_interrupt(tmp_path, capsys):
    """Ctrl-C inside an import of a C extension can surface as another error: the CLI still says interrupted."""
    import signal

    from smi import cli

    missing = ["fit", "--release", str(tmp_path / "no-release"), "--out", str(tmp_path / "out")]
    assert cli._run(missing, cli._InterruptWatch()) == 2  # the plain error, with no interrupt seen
    assert capsys.readouterr().err.splitlines()[-1].startswith("smi: error:")
    watch = cli._InterruptWatch()
    watch.received = True
    assert cli._run(missing, watch) == 130
    assert capsys.readouterr().err.splitlines()[-1] == "smi: interrupted"
    before = signal.getsignal(signal.SIGINT)
    cli.main(missing)
    assert signal.getsignal(signal.SIGINT) is before  # main leaves the process's handler as it found it


@pytest.mark.parametrize("command, default", [("fit", "keep"), ("evaluate", "drop"), ("predict", "drop")])
def test_answer_in_subject_is_one_option(command, default):
    from smi import cli

    parser = cli.build_parser()
    required = {"evaluate": ["--scheme", "leave-one-corpus-out"], "predict": ["--counts", "c.json", "--params", "1e9"]}
    base = [command, *required.get(command, [])]
    assert parser.parse_args(base).answer_in_subject == default
    for choice in ("keep", "drop"):
        assert parser.parse_args([*base, "--answer-in-subject", choice]).answer_in_subject == choice


def test_library_errors_name_parameters_and_the_cli_names_flags(tmp_path, run_cli):
    from smi import cli, probing
    from smi.errors import ParameterValueError

    with pytest.raises(ParameterValueError, match=r"^max_new_tokens must be from 1 to 1,024 \(got 0\)$") as raised:
        probing.ProbeSettings(max_new_tokens=0)
    assert cli.flag_message(raised.value) == "--max-new-tokens must be from 1 to 1,024 (got 0)"
    a_file = tmp_path / "a file"
    a_file.write_text("x")
    error = ParameterValueError("out_dir", "must be a folder, and this is a file", a_file)
    assert str(error) == f"{a_file}: out_dir must be a folder, and this is a file"
    assert cli.flag_message(error) == f"{a_file}: --out must be a folder, and this is a file"
    code, _, err = run_cli("data", "fetch", "--dest", a_file)
    assert code == 2 and err.strip().splitlines()[-1] == f"smi: error: {a_file}: --dest is a file, not a folder"


@pytest.mark.parametrize(
    ("call", "library", "command_line"),
    [
        (lambda: formats.check_parameters(5), "parameters 5: ", "--params 5: "),
        (lambda: formats.check_tokens(-1), "tokens -1: ", "--tokens -1: "),
        (lambda: formats.check_document_count(0), "corpus_docs must be", "--corpus-docs must be"),
        (lambda: prediction.check_gbm_iterations(0), "gbm_iterations must be", "--gbm-iterations must be"),
        (lambda: prediction.check_seed(-1), "seed must be", "--seed must be"),
        (lambda: counting.count_corpus(None, [], "w", processes=0), "processes must be", "--processes must be"),
        (lambda: counting.count_corpus(None, [], "w", workers=0), "workers must be", "--workers must be"),
    ],
)
def test_counting_prediction_and_formats_errors_name_parameters(call, library, command_line):
    from smi import cli
    from smi.errors import ParameterValueError

    with pytest.raises(ParameterValueError) as raised:
        call()
    assert str(raised.value).startswith(library)
    assert cli.flag_message(raised.value).startswith(command_line)


def test_check_scalar_is_the_one_message_format_and_the_cli_names_the_flag(run_cli, tmp_path):
    from smi import cli
    from smi.errors import ParameterValueError, check_scalar

    assert check_scalar(3, "threads", "integer", minimum=1) == 3
    assert check_scalar(1e9, "corpus_docs", "integer", minimum=1) == 10**9 and isinstance(
        check_scalar(1e9, "corpus_docs", "integer"), int
    )
    assert check_scalar(0.2, "width", above=0) == 0.2
    cases = [
        ((0, "threads", "integer"), {"minimum": 1}, "threads must be at least 1 (got 0)"),
        ((11, "bins", "integer"), {"minimum": 1, "maximum": 10}, "bins must be from 1 to 10 (got 11)"),
        ((2.5, "samples", "integer"), {}, "samples must be an integer (got 2.5)"),
        ((True, "samples", "integer"), {}, "samples must be an integer (got True)"),
        ((float("nan"), "width", "number"), {"above": 0}, "width must be a finite number (got nan)"),
        ((0.0, "width", "number"), {"above": 0}, "width must be greater than 0 (got 0.0)"),
        (("3", "threads", "integer"), {}, "threads must be an integer (got '3')"),
    ]
    for args, bounds, message in cases:
        with pytest.raises(ParameterValueError) as raised:
            check_scalar(*args, **bounds)
        assert str(raised.value) == message
    assert cli.flag_message(raised.value) == "--threads must be an integer (got '3')"
    # the command line reports the library's check with its own flag: --bucket-width for width
    code, _, err = run_cli("fit", "--bucket-width", "-0.5", "--models", "pythia-14m", "--out", tmp_path / "out")
    assert code == 2 and err == "smi: error: --bucket-width must be greater than 0 (got -0.5)\n", err
