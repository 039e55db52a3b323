"""Rebuilding the probe set from ParaRel: prompts, filters, bad input, and the overlap with the release."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import write_records
from smi import formats, release, triples
from smi.errors import SmiError
from smi.records import read_json_lines


def fact(subj: str, obj: str) -> dict:
    return {"sub_label": subj, "obj_label": obj, "uuid": f"{subj}-{obj}"}


@pytest.fixture
def small_pararel(tmp_path) -> Path:
    """A ParaRel-shaped folder with five relations whose facts exercise every filter."""
    root = tmp_path / "pararel"
    trex = root / "data" / "trex_lms_vocab"
    graphs = root / "data" / "pattern_data" / "graphs_json"
    relations = {
        # instrument and genre share the prompt "[S] plays": Ann Lee is asked twice
        "P1303": ([fact("Ann Lee", "piano"), fact("Bo Ray", "guitar")], ["[X] plays [Y] .", "[X] plays the [Y]."]),
        "P136": (
            [fact("Ann Lee", "jazz"), fact("Cy Moss", "opera")],
            ["[X] plays [Y] music .", "[X] plays [Y].", "[Y] musicians such as [X]."],
        ),
        # Acme is both founded and headquartered in Rome: an ambiguous pair
        "P740": ([fact("Acme", "Rome"), fact("Zeta", "Oslo")], ["[X] was founded in [Y]."]),
        "P159": (
            [fact("Acme", "Rome"), fact("Zeta", "Bergen"), fact("Zeta", "Bergen")],
            ["The headquarter of [X] is in [Y] .", "[X] is headquartered in [Y]."],
        ),
        # region first, as in ParaRel's P36
        "P36": ([fact("France", "Paris")], ["The capital of [X] is [Y] .", "[Y] is the capital of [X]."]),
    }
    for pid, (facts, patterns) in relations.items():
        write_records(trex / f"{pid}.jsonl", facts)
        write_records(graphs / f"{pid}.jsonl", [{"pattern": p} for p in patterns])
    return root


SMALL_MAPPING = {
    "play": ("P1303",),
    "plays": ("P136",),
    "found": ("P740",),
    "headquarter": ("P159",),
    "capital": ("P36",),
}


def mapping_csv(tmp_path: Path, mapping: dict[str, tuple[str, ...]]) -> Path:
    path = tmp_path / "mapping.csv"
    pd.DataFrame([(rel, pid) for rel, pids in mapping.items() for pid in pids], columns=["rel", "pid"]).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    "pattern, prefix",
    [
        ("[X] was born in [Y].", "[S] was born in"),
        ("The capital of [X] is [Y] .", "The capital of [S] is"),
        ("[X] plays [Y] music .", None),
        ("[Y] musicians such as [X].", None),
        ("as a citizen of [Y], [X]", None),
    ],
)
def test_object_last_prefix_keeps_only_patterns_ending_in_the_object(pattern, prefix):
    assert triples.object_last_prefix(pattern) == prefix


def test_swap_slots_exchanges_subject_and_object():
    assert triples.swap_slots("[Y] is the capital of [X].") == "[X] is the capital of [Y]."


def test_templates_drop_patterns_whose_object_is_not_last(small_pararel):
    patterns = triples.relation_patterns(small_pararel, SMALL_MAPPING)
    assert len(patterns) == 10 and patterns["prompt"].isna().sum() == 3
    templates = triples.prompt_templates(patterns)
    assert templates["plays"] == ["[S] plays"]
    assert templates["capital"] == ["The capital of [S] is"]
    assert triples.query_prompts(patterns)["P159"] == "The headquarter of [S] is in"


def test_unfiltered_build_keeps_every_distinct_fact(small_pararel):
    facts, report = triples.build_probe_set(small_pararel, SMALL_MAPPING)
    assert list(facts.columns) == triples.TRIPLE_COLUMNS
    assert report.read == 10 and report.duplicates == 1 and len(facts) == 9
    assert facts["idx"].tolist() == list(range(9))


def test_release_filter_drops_repeated_prompts_and_shared_pairs(small_pararel):
    facts, report = triples.build_probe_set(small_pararel, SMALL_MAPPING, release_filter=True)
    kept = set(zip(facts["subj"], facts["rel"], facts["obj"]))
    # "Ann Lee plays" is asked first by P1303 (first in the release's order), so the jazz answer goes
    assert ("Ann Lee", "play", "piano") in kept and ("Ann Lee", "plays", "jazz") not in kept
    # Acme/Rome is stated by two relations: both facts go; Zeta keeps one fact per relation
    assert not any(subj == "Acme" for subj, _, _ in kept)
    assert ("Zeta", "found", "Oslo") in kept and ("Zeta", "headquarter", "Bergen") in kept
    assert report.ambiguous_prompt == 1 and report.ambiguous_pair == 2 and report.kept == len(facts) == 6


def test_capital_city_first_swaps_region_first_facts(small_pararel):
    facts, _ = triples.build_probe_set(small_pararel, SMALL_MAPPING, capital_city_first=True)
    capital = facts[facts["rel"] == "capital"].iloc[0]
    assert (capital["subj"], capital["obj"]) == ("Paris", "France")
    patterns = triples.relation_patterns(small_pararel, SMALL_MAPPING, capital_city_first=True)
    assert "[S] is the capital of" in triples.prompt_templates(patterns)["capital"]


def test_compare_with_release_counts_recall_and_precision():
    rebuilt = pd.DataFrame({"subj": ["a", "b", "c"], "rel": ["r", "r", "q"], "obj": ["x", "y", "z"]})
    released = pd.DataFrame({"subj": ["a", "c", "d"], "rel": ["r", "q", "q"], "obj": ["x", "z", "w"]})
    table = triples.compare_with_release(rebuilt, released).set_index("rel")
    assert table.loc["all", "shared"] == 2
    assert table.loc["all", "recall"] == pytest.approx(2 / 3) and table.loc["all", "precision"] == pytest.approx(2 / 3)
    assert table.loc["r", "precision"] == pytest.approx(1 / 2) and table.loc["q", "recall"] == pytest.approx(1 / 2)


def test_build_cli_writes_csv_and_parquet(small_pararel, tmp_path, run_cli):
    mapping = mapping_csv(tmp_path, SMALL_MAPPING)
    for name in ("facts.csv", "facts.parquet"):
        code, out, err = run_cli(
            "triples",
            "build",
            "--pararel",
            small_pararel,
            "--mapping",
            mapping,
            "--release-filter",
            "--out",
            tmp_path / name,
        )
        assert code == 0, err
        assert "6 facts in 5 classes" in out
    assert formats.load_facts(tmp_path / "facts.csv").equals(formats.load_facts(tmp_path / "facts.parquet"))


def test_malformed_line_names_file_and_line(small_pararel, tmp_path, run_cli):
    path = small_pararel / "data" / "trex_lms_vocab" / "P740.jsonl"
    write_records(path, [fact("Acme", "Rome"), '{"sub_label": "Zeta", "obj_la', fact("Nox", "Kyiv")])
    mapping = mapping_csv(tmp_path, SMALL_MAPPING)
    code, _, err = run_cli(
        "triples", "build", "--pararel", small_pararel, "--mapping", mapping, "--out", tmp_path / "f.csv"
    )
    assert code == 2 and f"{path}: line 2: invalid JSON" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run_cli(
        "triples",
        "build",
        "--pararel",
        small_pararel,
        "--mapping",
        mapping,
        "--skip-bad-lines",
        "--out",
        tmp_path / "f.csv",
    )
    assert code == 0 and "skipped lines 1" in out


def test_missing_field_names_file_and_line(small_pararel):
    path = small_pararel / "data" / "trex_lms_vocab" / "P36.jsonl"
    write_records(path, [fact("France", "Paris"), {"sub_label": "Peru", "uuid": "u"}])
    with pytest.raises(SmiError, match=r"P36.jsonl: line 2: missing field 'obj_label'"):
        triples.build_probe_set(small_pararel, SMALL_MAPPING)


def test_json_lines_reader_checks_required_fields_and_can_skip_bad_lines(tmp_path):
    """One reader of JSON-lines records (ParaRel's files, smi.formats' .jsonl): blank lines and a leading
    byte-order mark are fine; a bad line is an error naming it, or is left out and listed."""
    path = tmp_path / "P19.jsonl"
    lines = [
        json.dumps(fact("Ann Lee", "Leeds")),
        "   ",
        json.dumps({"sub_label": "Bo Ray", "obj_label": " ", "uuid": "u"}),
        json.dumps({**fact("Cy Moss", "Rome"), "uuid": "u\udc80"}, ensure_ascii=True),
        "[1, 2]",
        json.dumps(fact("Di Lu", "Oslo")),
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "".join(line + "\n" for line in lines).encode("utf-8") + b"\xff\n")
    with pytest.raises(SmiError, match=r"P19.jsonl: line 5: expected a JSON object"):
        read_json_lines(path)
    assert read_json_lines(path, skipped=[])[1] == [1, 3, 4, 6]  # no field required: any object is a record
    with pytest.raises(SmiError, match=r"P19.jsonl: line 3: missing field 'obj_label'"):
        read_json_lines(path, triples.PARAREL_FIELDS)
    skipped: list[tuple[int, str]] = []
    records, numbers = read_json_lines(path, triples.PARAREL_FIELDS, skipped)
    assert [r["sub_label"] for r in records] == ["Ann Lee", "Di Lu"] and numbers == [1, 6]
    assert skipped == [
        (3, "missing field 'obj_label'"),
        (4, "field 'uuid' is not valid Unicode (a lone surrogate)"),
        (5, "expected a JSON object"),
        (7, "not valid UTF-8"),
    ]


def test_unknown_pid_in_mapping_is_one_line_error(small_pararel, tmp_path, run_cli):
    mapping = mapping_csv(tmp_path, {**SMALL_MAPPING, "born": ("P19",)})
    code, _, err = run_cli(
        "triples", "build", "--pararel", small_pararel, "--mapping", mapping, "--out", tmp_path / "f.csv"
    )
    assert code == 2 and "unknown PID P19 (class 'born')" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SmiError, match="not a Wikidata relation id"):
        triples.check_mapping({"born": ("19",)}, small_pararel)


def test_templates_cli_reports_dropped_patterns(small_pararel, tmp_path, run_cli):
    out = tmp_path / "templates.json"
    code, stdout, err = run_cli(
        "triples",
        "templates",
        "--pararel",
        small_pararel,
        "--mapping",
        mapping_csv(tmp_path, SMALL_MAPPING),
        "--out",
        out,
    )
    assert code == 0, err
    assert "from 10 patterns (3 dropped" in stdout
    assert json.loads(out.read_text())["found"] == ["[S] was founded in"]


@pytest.mark.shared_data
def test_rebuild_holds_the_released_facts(release_dir, pararel_root):
    released = formats.load_facts(release.facts_path(release_dir))
    rebuilt, _ = triples.build_probe_set(pararel_root)
    table = triples.compare_with_release(rebuilt, released).set_index("rel")
    assert len(table) == 16 and (table.drop("all")["shared"] > 0).all()
    assert table.loc["all", "recall"] >= 0.999
    assert table.loc["all", "precision"] < 0.99  # unfiltered: some facts the release left out

    filtered, report = triples.build_probe_set(pararel_root, release_filter=True)
    filtered_table = triples.compare_with_release(filtered, released).set_index("rel")
    assert filtered_table.loc["all", "recall"] >= 0.999 and filtered_table.loc["all", "precision"] >= 0.999
    assert report.ambiguous_prompt > 0 and report.ambiguous_pair > 0


def test_read_table_checks_like_smi_count_and_keeps_extra_columns(tmp_path):
    table = tmp_path / "facts.csv"
    table.write_text("idx,subj,rel,obj,pid\n1,Ada Lovelace,born,London,P19\n2,NA,born,Namibia,P19\n")
    frame = formats.load_facts(table)
    assert frame["pid"].tolist() == ["P19", "P19"] and frame["subj"].tolist() == [
        "Ada Lovelace",
        "NA",
    ]  # "NA" is a name
    table.write_text("idx,subj,rel,obj\n1,Ada Lovelace,born,London\n1,Alan Turing,born,London\n")
    with pytest.raises(SmiError, match=r"facts.csv: line 3: duplicate idx 1"):
        formats.load_facts(table)
    table.write_text("idx,subj,rel,obj\n1,Ada Lovelace,,London\n")
    with pytest.raises(SmiError, match=r"line 2 \(idx 1\): field 'rel' must be a non-empty string"):
        formats.load_facts(table)
    table.write_text("idx,subj,rel,obj\n1,,born,London\n")
    with pytest.raises(SmiError, match=r"line 2 \(idx 1\): field 'subj'"):
        formats.load_facts(table)
