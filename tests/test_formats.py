"""One reader per format (smi.formats): what each refuses, that every command uses it, and that the release passes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import smi
from helpers import one_line_error
from smi import counting, formats, prediction, regression, release, triples
from smi.errors import SmiError

# --------------------------------------------------------------------------- helpers


def counts_record(idx, s1j1=5, subj=50, obj=60, seqs=1000, **extra) -> dict:
    """A fact with consistent document counts (and whatever ``extra`` adds, e.g. acc)."""
    record = {
        "idx": idx,
        "subj": f"s{idx}",
        "rel": "born",
        "obj": f"o{idx}",
        "time_seqs": seqs,
        "time_subj": subj,
        "time_obj": obj,
        "time_s1j1": s1j1,
        "time_s1j0": subj - s1j1,
        "time_s0j1": obj - s1j1,
        "time_s0j0": seqs - subj - obj + s1j1,
    }
    record.update(extra)
    return record


def small_release(
    tmp_path: Path, records: list[dict], model: str = "tiny-model", parameters: str = "1000000"
) -> tuple[Path, Path]:
    """A release folder with one model's output file, and a models table naming it."""
    folder = tmp_path / "release"
    path = release.model_output_path(folder, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records))
    table = tmp_path / "models.csv"
    table.write_text(f"name,series,parameters,corpus\n{model},tiny,{parameters},toy\n")
    return folder, table


GOOD_FACTS = [
    counts_record(i, s1j1, acc=acc) for i, (s1j1, acc) in enumerate([(5, 0.1), (10, 0.3), (20, 0.5), (40, 0.8)])
]


def run_as_user(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m smi ARGV`` in a subprocess that honours file permissions.

    Root ignores a folder's permission bits, so as root the command runs without the
    capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), via setpriv.
    """
    command = [sys.executable, "-m", "smi", *map(str, argv)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a read-only folder cannot be made")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    env = {**os.environ, "PYTHONPATH": str(Path(smi.__file__).resolve().parents[1])}  # the package under test
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def read_only_folder(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


# --------------------------------------------------------------------------- idx and names


def test_idx_key_makes_an_integer_and_its_digits_one_key():
    assert formats.idx_key(1) == formats.idx_key("1") == formats.idx_key(" 01") == formats.idx_key(1.0) == 1
    assert formats.idx_key("x7") == "x7" and formats.idx_key(1.5) == 1.5
    with pytest.raises(TypeError):
        formats.idx_key(True)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_idx_1_and_string_1_in_one_facts_file_are_a_duplicate(tmp_path, suffix):
    """Before: `smi count` and every other facts reader accepted idx 1 and "1" as two facts."""
    path = tmp_path / f"facts{suffix}"
    if suffix == ".json":
        path.write_text(
            json.dumps(
                [
                    {"idx": 1, "subj": "Ada", "rel": "born", "obj": "London"},
                    {"idx": "1", "subj": "Alan", "rel": "born", "obj": "London"},
                ]
            )
        )
        where = "record 1"
    else:  # a CSV column with a non-numeric idx is read as text: "1" and "01" differ as strings
        path.write_text("idx,subj,rel,obj\nx7,Ada,born,London\n1,Alan,born,London\n01,Ole,born,Oslo\n")
        where = "line 4"
    readers = [formats.read_facts, formats.load_facts]  # smi count; smi triples, smi probe
    for reader in readers:
        with pytest.raises(SmiError, match=rf"facts{suffix}: {where}: duplicate idx"):
            reader(path)


def test_integer_idx_duplicates_are_found_by_the_quick_path_and_named_by_the_careful_one():
    where = lambda row: f"record {row}"
    formats.check_idx([3, 1, 2], where)  # all distinct integers: accepted
    with pytest.raises(SmiError, match=r"record 3: duplicate idx 1$"):
        formats.check_idx([3, 1, 2, 1], where)
    with pytest.raises(SmiError, match=r"record 1: idx must be an integer or a string, got True"):
        formats.check_idx([3, True], where)  # a bool is not an int here


def test_facts_json_with_a_byte_order_mark_reads_like_without(tmp_path):
    records = [{"idx": 1, "subj": "Ada é", "rel": "born", "obj": "London"}]
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_bytes(json.dumps(records, ensure_ascii=False).encode("utf-8"))
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert formats.read_facts(marked) == formats.read_facts(plain)
    (tmp_path / "latin1.json").write_bytes(json.dumps(records, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(SmiError, match=r"latin1.json: not valid UTF-8"):
        formats.read_facts(tmp_path / "latin1.json")


def test_facts_built_by_hand_are_checked_before_counting_and_read_ones_once(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": " Ada London"}\n')
    bad = formats.Facts([1], ["Ada"], ["born"], ["  "])
    assert not bad.checked
    with pytest.raises(SmiError, match=r"facts row 0 \(idx 1\): field 'obj' must be a non-empty string"):
        counting.count_corpus(bad, [corpus], tmp_path / "work", progress=False)
    path = tmp_path / "facts.json"
    path.write_text(json.dumps([{"idx": 1, "subj": "Ada", "rel": "born", "obj": "London"}]))
    read = formats.read_facts(path)
    assert read.checked
    run = counting.count_corpus(read, [corpus], tmp_path / "work2", progress=False)
    assert run.columns()["time_s1j1"] == [1]


def test_lone_surrogate_in_a_name_is_refused_at_read_time_with_its_row(tmp_path):
    """Before: read without a word; `smi count` then counted the whole corpus and failed writing the output."""
    path = tmp_path / "facts.json"
    path.write_text(
        '[{"idx": 1, "subj": "Ada", "rel": "born", "obj": "London"},'
        ' {"idx": 2, "subj": "Al\\ud800an", "rel": "born", "obj": "London"}]'
    )
    with pytest.raises(SmiError, match=r"facts.json: record 1 \(idx 2\): field 'subj' is not valid Unicode"):
        formats.read_facts(path)
    with pytest.raises(SmiError, match=r"record 1 \(idx 2\): field 'subj' is not valid Unicode"):
        formats.load_facts(path)


def test_smi_count_refuses_a_lone_surrogate_before_counting(tmp_path, run_cli):
    facts = tmp_path / "facts.json"
    facts.write_text('[{"idx": 1, "subj": "Ada", "rel": "born", "obj": "Lon\\udc00don"}]')
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"text": "Ada was born in London."}) + "\n")
    code, _, err = run_cli("count", "--facts", facts, "--out", tmp_path / "counts.csv", corpus)
    assert "record 0 (idx 1): field 'obj' is not valid Unicode" in one_line_error(code, err)
    assert not (tmp_path / "counts.csv").exists() and not (tmp_path / "counts.csv.parts").exists()


# --------------------------------------------------------------------------- per-model outputs and `smi fit`


def test_duplicate_idx_records_in_a_model_file_are_refused(tmp_path, run_cli):
    """Before: `smi fit` counted the repeated facts twice (Pythia-12B's SMI R² moved from 0.856 to 0.786)."""
    folder, table = small_release(tmp_path, [*GOOD_FACTS, GOOD_FACTS[1]])
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert "tiny-model.json: record 4: duplicate idx 1" in one_line_error(code, err)
    assert not (tmp_path / "out" / "r2_bucketed.csv").exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"time_subj": 1200}, r"record 2: time_subj \(1200\) exceeds time_seqs \(1000\)"),
        ({"time_s1j1": 70}, r"record 2: time_s1j1 \(70\) exceeds min\(time_subj, time_obj\) \(50\)"),
        ({"time_obj": -3}, r"record 2: field 'time_obj' must be a non-negative integer count"),
        ({"time_obj": 6.5}, r"record 2: field 'time_obj' must be a non-negative integer count, got 6.5"),
        ({"time_seqs": 2000}, r"record 2: time_seqs is 2000, but 1000 in the first row"),
    ],
)
def test_impossible_counts_in_a_model_file_are_refused(tmp_path, run_cli, bad, message):
    """Before: counts above time_seqs gave p > 1 and the fact was silently dropped from the fit."""
    records = [dict(record) for record in GOOD_FACTS]
    records[2].update(bad)
    folder, table = small_release(tmp_path, records)
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert pd.Series([one_line_error(code, err)]).str.contains(message).all(), err


@pytest.mark.parametrize("acc", ["NaN", "Infinity", '"high"', "true"])
def test_accuracy_must_be_a_finite_number(tmp_path, acc):
    path = tmp_path / "model.json"
    records = [dict(record) for record in GOOD_FACTS]
    text = json.dumps(records).replace('"acc": 0.3', f'"acc": {acc}', 1)
    path.write_text(text)
    with pytest.raises(SmiError, match=r"model.json: record 1: field 'acc' must be in \[0, 1\]"):
        formats.read_model_output(path)


def test_constant_accuracy_names_the_model_instead_of_writing_minus_infinity(tmp_path, run_cli):
    """Before: `smi fit` wrote R² = -inf for a model whose accuracy never varies."""
    folder, table = small_release(tmp_path, [dict(record, acc=0.25) for record in GOOD_FACTS])
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    line = one_line_error(code, err)
    assert "model 'tiny-model'" in line and "accuracy is 0.25 on all 4 usable facts" in line
    assert not (tmp_path / "out" / "r2_bucketed.csv").exists()


# --------------------------------------------------------------------------- models table and --params


@pytest.mark.parametrize(
    "text, message",
    [
        ("name,series,parameters,corpus\n", "empty models table: no rows under the header"),
        ("", "empty models table"),
        (
            "name,series,parameters,corpus\ntiny-model,tiny,12,toy\n",
            "line 2: model 'tiny-model' has size 12: looks like billions; give the raw count, e.g. 12000000000 for 12B",
        ),
        (
            "name,series,parameters,corpus\ntiny-model,tiny,inf,toy\n",
            "has size inf: a parameter count must be a finite number",
        ),
        ("name,series,parameters,corpus\ntiny-model,tiny,,toy\n", "has size : a parameter count must be a number"),
        (
            "name,series,parameters,corpus\ntiny-model,tiny,2e9,toy\ntiny-model,tiny,3e9,toy\n",
            "line 3: model 'tiny-model' is listed twice",
        ),
        ("name,series,parameters,corpus\n,tiny,2e9,toy\n", "line 2: empty field 'name'"),
        ('name,series,parameters,corpus\n"tiny,2e9,toy\n', "cannot read CSV"),
    ],
)
def test_bad_models_table_is_one_line(tmp_path, run_cli, text, message):
    """Before: an empty table was a raw KeyError or EmptyDataError, 12 was taken for 12 parameters,
    a repeated name was fitted twice."""
    folder, table = small_release(tmp_path, GOOD_FACTS)
    table.write_text(text)
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert message in one_line_error(code, err)


@pytest.mark.parametrize(
    "tokens, message",
    [
        ("abc", "line 2: model 'tiny-model' has tokens 'abc' in column 'tokens': a token count must be a number"),
        ("-3e11", "in column 'tokens': a token count must be a finite number above 0"),
        ("0", "in column 'tokens': a token count must be a finite number above 0"),
        ("inf", "in column 'tokens': a token count must be a finite number above 0"),
    ],
)
def test_models_table_tokens_must_be_positive_numbers(tmp_path, run_cli, tokens, message):
    folder, table = small_release(tmp_path, GOOD_FACTS)
    table.write_text(f"name,series,parameters,corpus,tokens\ntiny-model,tiny,2e9,toy,{tokens}\n")
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", tmp_path / "out")
    assert message in one_line_error(code, err) and str(table) in err


def test_models_table_tokens_are_optional_and_empty_cells_unknown(tmp_path):
    table = tmp_path / "models.csv"
    table.write_text(
        "name,series,parameters,corpus,tokens,tokens_source\na,s,2e9,c,3e11,card\nb,s,3e9,c,,not published\n"
    )
    models = formats.load_models(table)
    assert models["tokens"].iloc[0] == 3e11 and np.isnan(models["tokens"].iloc[1])
    table.write_text("name,series,parameters,corpus\na,s,2e9,c\n")
    assert formats.load_models(table)["tokens"].isna().all()
    packaged = formats.load_models()  # tokens only where a model card publishes them
    assert packaged.set_index("name")["tokens"].notna().sum() == 14
    assert packaged.set_index("name").loc[["ours-7b", "bloom", "gpt-neox-20b"], "tokens"].isna().all()


@pytest.mark.parametrize("tokens", ["0", "-1e11", "inf", "nan"])
def test_predict_tokens_must_be_a_positive_finite_number(run_cli, tmp_path, tokens):
    code, _, err = run_cli(
        "predict",
        "--counts",
        tmp_path / "unused.json",
        "--params",
        "3e10",
        f"--tokens={tokens}",
        "--out",
        tmp_path / "p.csv",
    )
    assert f"--tokens {float(tokens):g}: a token count must be a finite number above 0" in one_line_error(code, err)


@pytest.mark.parametrize(
    "params, message",
    [
        ("inf", "--params inf: a parameter count must be a finite number"),
        ("nan", "--params nan: a parameter count must be a finite number"),
        ("0", "--params 0: a parameter count must be a raw count of at least 10,000"),
        ("12", "--params 12: looks like billions; give the raw count, e.g. 12000000000 for 12B"),
    ],
)
def test_predict_params_is_checked_like_the_models_table(run_cli, tmp_path, params, message):
    """Before: --params inf ran to the end and wrote empty predictions; 12 was taken for 12 parameters."""
    code, _, err = run_cli(
        "predict", "--counts", tmp_path / "unused.json", "--params", params, "--out", tmp_path / "p.csv"
    )
    assert message in one_line_error(code, err)
    with pytest.raises(SmiError, match=r"^parameters "):  # the library names its parameter, the CLI its flag
        prediction.predict_new_model(tmp_path, pd.DataFrame(), float(params))


def test_parameter_rule_accepts_raw_counts():
    assert formats.check_parameters(12e9) == 12e9 and formats.parameter_problem(50_000) is None  # a lab model
    assert formats.parameter_problem(1300) is not None  # 1.3B written in millions
    assert formats.load_models()["parameters"].min() >= formats.MIN_PARAMETERS


# --------------------------------------------------------------------------- counts files


def test_counts_file_refuses_duplicate_idx_and_counts_above_the_corpus(tmp_path):
    path = tmp_path / "counts.jsonl"
    records = [counts_record(1), counts_record(2)]
    lines = [json.dumps(record) for record in records] + ["", json.dumps(counts_record("2"))]  # a blank line 3
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SmiError, match=r"counts.jsonl: line 4: duplicate idx '2'"):
        prediction.load_counts_file(path)  # `smi predict --counts`
    path.write_text(json.dumps(counts_record(1, subj=50, seqs=40)) + "\n")
    with pytest.raises(SmiError, match=r"line 1: time_subj \(50\) exceeds time_seqs \(40\)"):
        formats.read_counts(path)
    with pytest.raises(SmiError, match=r"^corpus_docs must be an integer \(got inf\)"):
        prediction.load_counts_file(path, corpus_docs=float("inf"))


def test_probe_counts_refuse_duplicate_idx(tmp_path):
    """`smi probe --counts` reads through the same counts check (it used to keep the first of two records)."""
    from smi import probing

    path = tmp_path / "merge.json"
    path.write_text(json.dumps([counts_record(1), counts_record(2), counts_record(1, s1j1=9)]))
    with pytest.raises(SmiError, match=r"merge.json: record 2: duplicate idx 1"):
        probing.load_counts(path)


# --------------------------------------------------------------------------- `smi fit` outputs


def test_fit_refuses_an_unusable_out_before_any_work(tmp_path, run_cli):
    """Before: --out naming a file, or a folder under a file, was a raw FileExistsError / NotADirectoryError."""
    folder, table = small_release(tmp_path, GOOD_FACTS)
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    (tmp_path / "taken" / "r2_table.md").mkdir(parents=True)
    cases = {
        a_file: "--out is a file",
        a_file / "sub": "a parent of it is a file",
        tmp_path / "taken": "r2_table.md: fit output is a folder",
    }
    for out, message in cases.items():
        code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", out)
        assert message in one_line_error(code, err)
    assert a_file.read_text() == "keep me"
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["r2_table.md"]


def test_fit_refuses_a_read_only_out(tmp_path, read_only_folder):
    folder, table = small_release(tmp_path, GOOD_FACTS)
    result = run_as_user("fit", "--release", folder, "--models-table", table, "--out", read_only_folder, cwd=tmp_path)
    line = one_line_error(result.returncode, result.stderr)
    assert f"{read_only_folder}/r2_bucketed.csv: cannot write the fit output (Permission denied)" in line
    assert list(read_only_folder.iterdir()) == []


def test_fit_outputs_are_written_together_or_not_at_all(tmp_path, run_cli, monkeypatch):
    """Before: the three files were written one after the other in place; a failure in the last left new
    CSVs beside an old r2_table.md."""
    folder, table = small_release(tmp_path, GOOD_FACTS)
    out = tmp_path / "out"
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", out)
    assert code == 0, err
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert sorted(before) == ["r2_bucketed.csv", "r2_per_fact.csv", "r2_table.md"]

    records = [dict(record, acc=min(1.0, record["acc"] + 0.1)) for record in GOOD_FACTS]
    release.model_output_path(folder, "tiny-model").write_text(json.dumps(records))

    def broken_table(*_args, **_kwargs):
        raise SmiError("disk full while writing r2_table.md")

    monkeypatch.setattr(regression.outputs, "markdown_table", broken_table)
    code, _, err = run_cli("fit", "--release", folder, "--models-table", table, "--out", out)
    assert "disk full" in one_line_error(code, err)
    # no new CSV beside the old table, no temporary file left
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


# --------------------------------------------------------------------------- `smi data fetch --dest`


def test_fetch_refuses_a_dest_that_is_a_file_or_under_one(tmp_path, run_cli):
    """Before: a raw NotADirectoryError traceback."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    code, _, err = run_cli("data", "fetch", "--dest", a_file, "--mirror", mirror)
    assert f"{a_file}: --dest is a file, not a folder" in one_line_error(code, err)
    code, _, err = run_cli("data", "fetch", "--dest", a_file / "data", "--mirror", mirror)
    assert "cannot create the data folder: a parent of it is a file" in one_line_error(code, err)
    assert a_file.read_text() == "keep me"


def test_fetch_refuses_a_read_only_dest(tmp_path, read_only_folder):
    """Before: a raw PermissionError traceback."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    result = run_as_user("data", "fetch", "--dest", read_only_folder / "external", "--mirror", mirror, cwd=tmp_path)
    assert "cannot write into the data folder (Permission denied)" in one_line_error(result.returncode, result.stderr)


# --------------------------------------------------------------------------- `smi triples`


def small_pararel(root: Path) -> Path:
    for pid, pattern, (subj, obj) in [
        ("P19", "[X] was born in [Y].", ("Ann Ward", "Leeds")),
        ("P20", "[X] died in [Y].", ("Bob Stone", "Leeds")),
    ]:
        trex, graphs = triples.trex_path(root, pid), triples.patterns_path(root, pid)
        for path in (trex, graphs):
            path.parent.mkdir(parents=True, exist_ok=True)
        trex.write_text(json.dumps({"sub_label": subj, "obj_label": obj, "uuid": subj}) + "\n")
        graphs.write_text(json.dumps({"pattern": pattern}) + "\n")
    return root


@pytest.fixture
def sentences_inputs(tmp_path):
    """A ParaRel folder, a facts table and a corpus that `smi triples sentences` accepts."""
    pararel = small_pararel(tmp_path / "pararel")
    facts = tmp_path / "facts.csv"
    facts.write_text("idx,subj,rel,obj\n7,Ann Ward,born,Leeds\n3,Bob Stone,die,Leeds\n")
    corpus = tmp_path / "corpus.jsonl"
    texts = ["Ann Ward was born in Leeds.", "Bob Stone lived in Leeds."]
    corpus.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts))
    return {"--pararel": pararel, "--facts": facts, "--corpus": corpus, "--out": tmp_path / "counts.csv"}


def write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    "option, make, message",
    [
        ("--corpus", lambda d: d / "absent.jsonl", "absent.jsonl: corpus not found"),
        ("--corpus", lambda d: d, "the corpus is a folder"),
        (
            "--corpus",
            lambda d: write(d / "c.jsonl", b'{"text": "A."}\n{"text": "\xff"}\n'),
            "c.jsonl: line 2: invalid UTF-8",
        ),
        (
            "--corpus",
            lambda d: write(d / "c.jsonl", '{"text": "A."}\n' + "[" * 50000 + "]" * 50000 + "\n"),
            "c.jsonl: line 2: JSON nested too deeply",
        ),
        (
            "--corpus",
            lambda d: write(d / "c.jsonl", '{"text": "A."}\n{"text": "B\\ud800"}\n'),
            "c.jsonl: line 2: field 'text' is not valid Unicode",
        ),
        ("--facts", lambda d: write(d / "f.csv", "idx,subj,rel,obj\n"), "f.csv: no rows under the header"),
        (
            "--facts",
            lambda d: write(
                d / "f.json",
                '[{"idx": 1, "subj": "Ann Ward", "rel": "born", "obj": "Leeds"},'
                ' {"idx": "1", "subj": "Bob Stone", "rel": "die", "obj": "Leeds"}]',
            ),
            "f.json: record 1: duplicate idx '1'",
        ),
        (
            "--facts",
            lambda d: write(d / "f.json", '[{"idx": 1, "subj": "Ann\\udc80", "rel": "born", "obj": "Leeds"}]'),
            "f.json: record 0 (idx 1): field 'subj' is not valid Unicode",
        ),
        ("--out", lambda d: write(d / "a-file", "x") / "counts.csv", "a parent of it is a file"),
        ("--out", lambda d: d / "counts.txt", "output must end in .csv or .parquet"),
        ("--pararel", lambda d: d / "absent", "not a ParaRel folder"),
    ],
)
def test_triples_sentences_bad_input_is_one_line(tmp_path, run_cli, sentences_inputs, option, make, message):
    """Before: invalid UTF-8, deep nesting, a header-only table and a lone surrogate were raw tracebacks; a duplicate
    idx was accepted; a bad --out or --pararel was found only after the corpus had been split and counted."""
    folder = tmp_path / "bad"
    folder.mkdir()
    inputs = {**sentences_inputs, option: make(folder)}
    code, _, err = run_cli("triples", "sentences", *[str(part) for item in inputs.items() for part in item])
    assert message in one_line_error(code, err)
    assert "split:" not in err and not sentences_inputs["--out"].exists()  # refused before any work


def test_triples_sentences_accepts_a_byte_order_mark(run_cli, sentences_inputs):
    corpus = sentences_inputs["--corpus"]
    corpus.write_bytes(b"\xef\xbb\xbf" + corpus.read_bytes())
    code, out, err = run_cli("triples", "sentences", *[str(part) for item in sentences_inputs.items() for part in item])
    assert code == 0, err
    assert "2 facts over 2 documents" in out


def test_triples_build_and_templates_refuse_bad_mappings_and_outputs(tmp_path, run_cli):
    """Before: an empty or header-only mapping and an --out under a file were raw tracebacks."""
    pararel = small_pararel(tmp_path / "pararel")
    a_file = write(tmp_path / "a-file", "x")
    mapping = tmp_path / "mapping.csv"
    cases = [
        ("", "empty mapping file"),
        ("rel,pid\n", "no rows under the header rel,pid"),
        ('rel,pid\n"born,P19\n', "cannot read CSV"),
    ]
    for text, message in cases:
        mapping.write_text(text)
        code, _, err = run_cli(
            "triples", "build", "--pararel", pararel, "--mapping", mapping, "--out", tmp_path / "f.csv"
        )
        assert message in one_line_error(code, err)
    mapping.write_text("rel,pid\nborn,P19\n")
    code, _, err = run_cli(
        "triples", "templates", "--pararel", pararel, "--mapping", mapping, "--out", a_file / "t.json"
    )
    assert "a parent of it is a file" in one_line_error(code, err)
    code, _, err = run_cli("triples", "build", "--pararel", pararel, "--mapping", mapping, "--out", a_file / "f.csv")
    assert "a parent of it is a file" in one_line_error(code, err)
    bad_compare = write(
        tmp_path / "released.json",
        '[{"idx": 1, "subj": "A", "rel": "born", "obj": "B"}, {"idx": 1, "subj": "C", "rel": "born", "obj": "D"}]',
    )
    code, _out, err = run_cli(
        "triples",
        "build",
        "--pararel",
        pararel,
        "--mapping",
        mapping,
        "--out",
        tmp_path / "f.csv",
        "--compare",
        bad_compare,
    )
    assert "released.json: record 1: duplicate idx 1" in one_line_error(code, err)
    assert not (tmp_path / "f.csv").exists()  # the comparison facts are checked before the build


# --------------------------------------------------------------------------- the release passes every check


@pytest.mark.shared_data
def test_every_release_file_passes_its_reader_unchanged(release_dir):
    def as_read(path):  # the file as json reads it (pandas' own JSON parser rounds some floats differently)
        return pd.DataFrame.from_records(json.loads(Path(path).read_text(encoding="utf-8")))

    facts = formats.load_facts(release.facts_path(release_dir))
    raw_facts = as_read(release.facts_path(release_dir))
    assert len(facts) == 12671 and facts.equals(raw_facts)
    assert formats.read_facts(release.facts_path(release_dir)).idx == raw_facts["idx"].tolist()
    for corpus in release.available_corpora(release_dir):
        path = release.corpus_counts_path(release_dir, corpus)
        counts = formats.read_counts(path)
        assert len(counts) == 12671 and counts.equals(as_read(path)), corpus
        assert counts["time_seqs"].nunique() == 1
    models = formats.load_models()
    assert len(models) == 24 and models["name"].is_unique
    for name in models["name"]:
        path = release.model_output_path(release_dir, name)
        output = formats.read_model_output(path)
        assert output.equals(as_read(path)), name
        assert output["acc"].nunique() > 1, name


@pytest.mark.shared_data
def test_duplicated_records_in_the_release_would_have_moved_the_published_r2(release_dir, tmp_path, run_cli):
    """The defect on real data: Pythia-12B's file with 2,000 records repeated is refused, not fitted."""
    folder = tmp_path / "release"
    records = json.loads(release.model_output_path(release_dir, "pythia-12b").read_text())
    target = release.model_output_path(folder, "pythia-12b")
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(records + records[-2000:]))
    code, _, err = run_cli("fit", "--release", folder, "--models", "pythia-12b", "--out", tmp_path / "out")
    assert "pythia-12b.json: record 12671: duplicate idx" in one_line_error(code, err)
