"""Knowledge probing: the accuracy arithmetic, seeding, resume and the ``smi probe`` command.

Models are tiny, randomly initialised GPT-NeoX and Llama networks with a
word-level tokenizer trained here on the test facts, so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from smi import formats, probing, release, testing
from smi.errors import SmiError
from smi.records import COUNT_FIELDS

FACTS = [
    {"idx": 1, "subj": "Paris", "rel": "capital", "obj": "France"},
    {"idx": 2, "subj": "Rome", "rel": "capital", "obj": "Italy"},
    {"idx": 3, "subj": "Marie Curie", "rel": "born", "obj": "Warsaw"},
    {"idx": 4, "subj": "Alan Turing", "rel": "born", "obj": "London"},
    {"idx": 5, "subj": "Madrid", "rel": "capital", "obj": "Spain"},
    {"idx": 6, "subj": "Ada Lovelace", "rel": "born", "obj": "London"},
]
TEMPLATES = {
    "capital": ["[S] is the capital of", "The city of [S] is the capital of", "[S], capital of"],
    "born": ["[S] was born in", "The birthplace of [S] is"],
}
#: 20 templates per relation, as in the release (numbered variants of one sentence).
TEMPLATES_20 = {rel: [f"{items[0]} (variant {n})" for n in range(20)] for rel, items in TEMPLATES.items()}


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value))
    return path


@pytest.fixture(scope="module")
def facts() -> pd.DataFrame:
    return pd.DataFrame(FACTS)


@pytest.fixture(scope="module", params=["gpt_neox", "llama"])
def tiny_model(request, tmp_path_factory) -> Path:
    """A random tiny model of each architecture whose tokenizer knows every word of the facts and templates."""
    texts = testing.facts_vocabulary(pd.DataFrame(FACTS), TEMPLATES_20) + testing.facts_vocabulary(
        pd.DataFrame(FACTS), TEMPLATES
    )
    return testing.save_tiny_model(tmp_path_factory.mktemp(request.param), texts, architecture=request.param, seed=1)


@pytest.fixture(scope="module")
def neox_model(tmp_path_factory) -> Path:
    texts = testing.facts_vocabulary(pd.DataFrame(FACTS), TEMPLATES_20) + testing.facts_vocabulary(
        pd.DataFrame(FACTS), TEMPLATES
    )
    return testing.save_tiny_model(tmp_path_factory.mktemp("neox"), texts, architecture="gpt_neox", seed=2)


class ScriptedGenerator:
    """Returns fixed answers: the k-th request for a prompt gets ``script[prompt][k]``."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = script
        self.calls: dict[str, int] = {}

    def generate(self, prompts, seeds):
        answers = []
        for prompt in prompts:
            number = self.calls.get(prompt, 0)
            self.calls[prompt] = number + 1
            answers.append(self.script[prompt][number])
        return answers


class InterruptedGenerator:
    """Wraps a generator, counts prompts, and raises KeyboardInterrupt on call number ``fail_on``."""

    def __init__(self, inner, fail_on: int | None = None) -> None:
        self.inner, self.fail_on, self.calls, self.prompts = inner, fail_on, 0, 0

    def fingerprint(self):
        return self.inner.fingerprint()

    def generate(self, prompts, seeds):
        self.calls += 1
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        self.prompts += len(prompts)
        return self.inner.generate(prompts, seeds)


# --------------------------------------------------------------------------- matching and arithmetic


@pytest.mark.parametrize(
    ("answer", "obj", "match", "ignore_case", "expected"),
    [
        ("Romeo and Juliet", "Rome", "paper", False, True),  # the paper's rule counts part of a word
        ("Romeo and Juliet", "Rome", "word", False, False),
        ("in Rome.", "Rome", "word", False, True),
        ("rome", "Rome", "paper", False, False),
        ("rome", "Rome", "paper", True, True),
        ("the USA", "US", "word", False, False),
        ("New York City", "New York", "word", False, True),
        ("C++ is", "C++", "word", False, True),
    ],
)
def test_answer_contains_object(answer, obj, match, ignore_case, expected):
    assert probing.answer_contains_object(answer, obj, match, ignore_case) is expected


def test_accuracy_arithmetic_with_scripted_answers():
    # Object "Rome"; hits per answer under substring / word / word+ignore-case / substring+ignore-case:
    # template 0: "Rome is old" 1/1/1/1, "Romeo and Juliet" 1/0/0/1, "rome" 0/0/1/1, "in Rome." 1/1/1/1, "Paris" 0/0/0/0
    # template 1: "Roman Empire" 0/0/0/0, "Rome" 1/1/1/1, "Jerome" 0/0/0/1, "ROME" 0/0/1/1, "" 0/0/0/0
    # accuracy over the 10 answers: substring 4/10, word 3/10, word+ignore-case 5/10, substring+ignore-case 7/10
    fact = {"idx": 7, "subj": "Italy", "rel": "capital", "obj": "Rome"}
    templates = {"capital": ["[S] has the capital", "The capital of [S] is"]}
    script = {
        "Italy has the capital": ["Rome is old", "Romeo and Juliet", "rome", "in Rome.", "Paris"],
        "The capital of Italy is": ["Roman Empire", "Rome", "Jerome", "ROME", ""],
    }
    expected = {("paper", False): 0.4, ("word", False): 0.3, ("word", True): 0.5, ("paper", True): 0.7}
    for (match, ignore_case), acc in expected.items():
        settings = probing.ProbeSettings(samples=5, match=match, ignore_case=ignore_case)
        prompts, seeds = probing.fact_prompts(fact, templates["capital"], settings)
        answers = ScriptedGenerator(script).generate(prompts, seeds)
        record = probing.fact_record(fact, templates["capital"], answers, settings, keep_answers=True)
        assert record["acc"] == pytest.approx(acc), (match, ignore_case)
        assert record["n_answers"] == 10
        assert record["answers"] == [script["Italy has the capital"], script["The capital of Italy is"]]
        assert record["qus"] == "Italy has the capital"


def test_probe_with_scripted_generator_scores_each_fact(tmp_path):
    facts = pd.DataFrame(
        [{"idx": 1, "subj": "A", "rel": "r", "obj": "x"}, {"idx": 2, "subj": "B", "rel": "r", "obj": "y"}]
    )
    templates = {"r": ["[S] one", "[S] two"]}
    script = {"A one": ["x", "no"], "A two": ["xx", "x y"], "B one": ["y", "y"], "B two": ["x", "Y"]}
    settings = probing.ProbeSettings(samples=2)
    records = probing.probe(
        facts, templates, ScriptedGenerator(script), settings, tmp_path / "out.json", progress=False
    )
    assert [r["acc"] for r in records] == [0.75, 0.5]
    assert json.loads((tmp_path / "out.json").read_text()) == records
    assert not probing.partial_path(tmp_path / "out.json").exists()


def test_template_sensitivity_from_kept_answers():
    records = [
        {"idx": 1, "rel": "r", "obj": "x", "answers": [["x", "x"], ["no", "no"]]},
        {"idx": 2, "rel": "r", "obj": "y", "answers": [["y", "no"], ["y", "y"]]},
    ]
    per_template = probing.template_accuracy(records, {"r": ["[S] a", "[S] b"]})
    assert per_template["acc"].tolist() == [1.0, 0.0, 0.5, 1.0]
    summary = probing.template_sensitivity(per_template).iloc[0]
    # template means: a = (1 + 0.5) / 2 = 0.75, b = (0 + 1) / 2 = 0.5; within-fact std: 0.5 and 0.25
    assert (summary["best_template_acc"], summary["worst_template_acc"]) == (0.75, 0.5)
    assert summary["gap"] == pytest.approx(0.25)
    assert summary["within_fact_std"] == pytest.approx(0.375)
    # sampling alone: fact means 0.5 and 0.75 with 2 answers per template
    assert summary["sampling_std"] == pytest.approx((math.sqrt(0.5 * 0.5 / 2) + math.sqrt(0.75 * 0.25 / 2)) / 2)
    with pytest.raises(SmiError, match="--keep-answers"):
        probing.template_accuracy([{"idx": 1, "rel": "r", "obj": "x"}], {"r": ["[S] a"]})


# --------------------------------------------------------------------------- tiny real models


def test_tiny_model_six_facts_twenty_templates_two_samples(tiny_model, facts, tmp_path):
    settings = probing.ProbeSettings(samples=2, max_new_tokens=6, seed=3)
    runs = []
    for name in ("first.json", "second.json"):
        generator = probing.load_transformers_generator(tiny_model, settings, batch_size=32)
        runs.append(
            probing.probe(facts, TEMPLATES_20, generator, settings, tmp_path / name, keep_answers=True, progress=False)
        )
    first, _second = runs
    assert [r["n_answers"] for r in first] == [40] * 6
    assert all(0.0 <= r["acc"] <= 1.0 for r in first)
    assert all(len(r["answers"]) == 20 and all(len(a) == 2 for a in r["answers"]) for r in first)
    assert (tmp_path / "first.json").read_bytes() == (tmp_path / "second.json").read_bytes()
    # answers are real sampled text: not all identical within a fact
    assert any(len({a for per in r["answers"] for a in per}) > 1 for r in first)


def test_batch_size_does_not_change_answers(tiny_model, facts, tmp_path):
    settings = probing.ProbeSettings(samples=2, max_new_tokens=5, seed=0)
    outputs = []
    for batch_size in (1, 5, 64):
        generator = probing.load_transformers_generator(tiny_model, settings, batch_size=batch_size)
        out = tmp_path / f"bs{batch_size}.json"
        probing.probe(
            facts.head(3), TEMPLATES, generator, settings, out, keep_answers=True, chunk_facts=2, progress=False
        )
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1] == outputs[2]


def test_seed_changes_answers_and_greedy_gives_one_per_template(neox_model, facts, tmp_path):
    answers = {}
    for seed in (0, 1):
        settings = probing.ProbeSettings(samples=2, max_new_tokens=5, seed=seed)
        generator = probing.load_transformers_generator(neox_model, settings)
        records = probing.probe(
            facts.head(2), TEMPLATES, generator, settings, tmp_path / f"s{seed}.json", keep_answers=True, progress=False
        )
        answers[seed] = [r["answers"] for r in records]
    assert answers[0] != answers[1]
    greedy = probing.ProbeSettings(samples=20, max_new_tokens=5, greedy=True)
    records = probing.probe(
        facts.head(2),
        TEMPLATES,
        probing.load_transformers_generator(neox_model, greedy),
        greedy,
        tmp_path / "greedy.json",
        keep_answers=True,
        progress=False,
    )
    assert [r["n_answers"] for r in records] == [3, 3]


def test_resume_after_interruption_equals_uninterrupted_run(neox_model, facts, tmp_path):
    settings = probing.ProbeSettings(samples=2, max_new_tokens=5, seed=5)
    model = probing.load_transformers_generator(neox_model, settings, batch_size=8)
    whole = probing.probe(facts, TEMPLATES, model, settings, tmp_path / "whole.json", keep_answers=True, progress=False)

    out = tmp_path / "resumed.json"
    interrupted = InterruptedGenerator(model, fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        probing.probe(facts, TEMPLATES, interrupted, settings, out, keep_answers=True, chunk_facts=2, progress=False)
    assert not out.exists(), "an interrupted run must not leave a complete-looking output"
    partial = probing.partial_path(out)
    assert len(partial.read_text().splitlines()) == 1 + 2  # header + the first chunk of 2 facts
    with open(partial, "a") as handle:
        handle.write('{"idx": 3, "subj": "Marie')  # killed while writing a line

    # another seed: the partial file is set aside (not reused, not deleted) and the run starts afresh
    said = []
    other = probing.ProbeSettings(samples=2, max_new_tokens=5, seed=6)
    with pytest.raises(KeyboardInterrupt):
        probing.probe(
            facts,
            TEMPLATES,
            InterruptedGenerator(model, fail_on=1),
            other,
            out,
            keep_answers=True,
            progress=False,
            say=said.append,
        )
    assert len(said) == 1 and "written for other settings" in said[0] and "recomputing" in said[0]
    assert len(list(tmp_path.glob("resumed.json.partial-*.jsonl"))) == 1

    # the first settings again: their partial file is taken back and resumed where it stopped
    resumed_generator = InterruptedGenerator(model)
    said.clear()
    resumed = probing.probe(
        facts,
        TEMPLATES,
        resumed_generator,
        settings,
        out,
        keep_answers=True,
        chunk_facts=2,
        progress=False,
        say=said.append,
    )
    assert any("set aside earlier" in line and "2 facts done" in line for line in said), said
    done_first = sum(len(TEMPLATES[f["rel"]]) * 2 for f in FACTS[:2])
    assert resumed_generator.prompts == sum(len(TEMPLATES[f["rel"]]) * 2 for f in FACTS) - done_first
    assert resumed == whole
    assert not partial.exists()


def interrupted_then_rerun(
    facts_before, facts_after, generator_before, generator_after, settings, out, templates=TEMPLATES
):
    """Probe ``facts_before`` until the second chunk, then rerun on ``facts_after``:
    (records, lines said, prompts asked)."""
    with pytest.raises(KeyboardInterrupt):
        probing.probe(
            facts_before,
            templates,
            InterruptedGenerator(generator_before, fail_on=2),
            settings,
            out,
            chunk_facts=2,
            progress=False,
            say=lambda line: None,
        )
    said, rerun = [], InterruptedGenerator(generator_after)
    records = probing.probe(
        facts_after, templates, rerun, settings, out, chunk_facts=2, progress=False, say=said.append
    )
    return records, said, rerun.prompts


def test_changed_facts_or_counts_are_recomputed_not_resumed(neox_model, facts, tmp_path):
    """Issue 11: a changed facts file did not stop `smi probe` from resuming with the old facts."""
    settings = probing.ProbeSettings(samples=2, max_new_tokens=4, seed=1)
    model = probing.load_transformers_generator(neox_model, settings)
    corrected = facts.assign(obj=facts["obj"].replace({"France": "Spain"}))  # idx 1, in the first chunk
    every_prompt = sum(len(TEMPLATES[rel]) * 2 for rel in facts["rel"])
    records, said, prompts = interrupted_then_rerun(facts, corrected, model, model, settings, tmp_path / "facts.json")
    assert "written for other facts" in said[0]
    assert prompts == every_prompt  # nothing of the old facts is reused
    assert records == probing.probe(corrected, TEMPLATES, model, settings, tmp_path / "fresh.json", progress=False)
    assert records[0]["obj"] == "Spain"

    counts = pd.DataFrame({"idx": facts["idx"], **{field: 100 for field in COUNT_FIELDS}}).set_index("idx")
    with_counts = probing.attach_counts(facts, counts, Path("counts.json"))
    other_counts = probing.attach_counts(facts, counts.assign(time_s1j1=7), Path("counts.json"))
    records, said, prompts = interrupted_then_rerun(
        with_counts, other_counts, model, model, settings, tmp_path / "counts.json"
    )
    assert "written for other facts" in said[0] and prompts == every_prompt
    assert [r["time_s1j1"] for r in records] == [7] * len(facts)


def test_other_weights_tokenizer_or_templates_are_recomputed_not_resumed(neox_model, facts, tmp_path):
    settings = probing.ProbeSettings(samples=2, max_new_tokens=4, seed=1)
    model = probing.load_transformers_generator(neox_model, settings)
    texts = testing.facts_vocabulary(facts, TEMPLATES_20) + testing.facts_vocabulary(facts, TEMPLATES)
    other_weights = testing.save_tiny_model(tmp_path / "other", texts, architecture="gpt_neox", seed=3)
    other = probing.load_transformers_generator(other_weights, settings)
    assert other.fingerprint()["tokenizer_sha256"] == model.fingerprint()["tokenizer_sha256"]
    assert other.fingerprint()["weights_sha256"] != model.fingerprint()["weights_sha256"]
    records, said, _ = interrupted_then_rerun(facts, facts, model, other, settings, tmp_path / "weights.json")
    assert "written for other model" in said[0]
    assert records == probing.probe(facts, TEMPLATES, other, settings, tmp_path / "fresh.json", progress=False)

    retokenised = probing.load_transformers_generator(neox_model, settings)
    retokenised.tokenizer.add_tokens(["Lutetia"])  # same weights, another vocabulary
    assert retokenised.fingerprint()["weights_sha256"] == model.fingerprint()["weights_sha256"]
    _, said, _ = interrupted_then_rerun(facts, facts, model, retokenised, settings, tmp_path / "tokenizer.json")
    assert "written for other model" in said[0]

    reworded = {**TEMPLATES, "born": ["[S] was born in the city of", "The birthplace of [S] is"]}
    with pytest.raises(KeyboardInterrupt):
        probing.probe(
            facts,
            TEMPLATES,
            InterruptedGenerator(model, fail_on=2),
            settings,
            tmp_path / "t.json",
            chunk_facts=2,
            progress=False,
            say=lambda line: None,
        )
    said = []
    probing.probe(facts, reworded, model, settings, tmp_path / "t.json", chunk_facts=2, progress=False, say=said.append)
    assert "written for other templates" in said[0]


def test_a_torn_last_line_is_cut_so_later_records_stay_readable(neox_model, facts, tmp_path):
    """A kill while a record was written leaves half a line; a resumed run must not glue its next record to it."""
    settings = probing.ProbeSettings(samples=1, max_new_tokens=3, seed=0)
    model = probing.load_transformers_generator(neox_model, settings)
    out = tmp_path / "out.json"
    with pytest.raises(KeyboardInterrupt):
        probing.probe(
            facts, TEMPLATES, InterruptedGenerator(model, fail_on=2), settings, out, chunk_facts=2, progress=False
        )
    partial = probing.partial_path(out)
    with open(partial, "a") as handle:
        handle.write('{"idx": 3, "subj": "Mar')
    with pytest.raises(KeyboardInterrupt):  # resumes, writes one more chunk, is killed again
        probing.probe(
            facts, TEMPLATES, InterruptedGenerator(model, fail_on=2), settings, out, chunk_facts=2, progress=False
        )
    lines = partial.read_text().splitlines()
    assert len(lines) == 1 + 4 and all(json.loads(line) for line in lines)
    said = []
    records = probing.probe(facts, TEMPLATES, model, settings, out, chunk_facts=2, progress=False, say=said.append)
    assert "4 facts done" in said[0]
    assert records == probing.probe(facts, TEMPLATES, model, settings, tmp_path / "whole.json", progress=False)


# --------------------------------------------------------------------------- the command line


@pytest.mark.parametrize("counts_name", ["counts.json", "counts.csv"])  # the release's JSON, `smi count`'s CSV
def test_cli_output_reads_like_a_release_model_file(neox_model, tmp_path, run_cli, counts_name):
    counts = [
        {
            **fact,
            "time_seqs": 1000,
            "time_subj": 10 + n,
            "time_obj": 20,
            "time_s1j1": 3 + n,
            "time_s1j0": 7,
            "time_s0j1": 17 - n,
            "time_s0j0": 973,
        }
        for n, fact in enumerate(FACTS)
    ]
    facts_file = write_json(tmp_path / "facts.json", FACTS)
    counts_file = tmp_path / counts_name
    if counts_name.endswith(".csv"):
        pd.DataFrame(counts).to_csv(counts_file, index=False)
    else:
        write_json(counts_file, counts)
    templates_file = write_json(tmp_path / "templates.json", TEMPLATES)
    fake_release = tmp_path / "release"
    out = fake_release / "infer" / "merge_outputs" / "tiny.json"
    code, stdout, stderr = run_cli(
        "probe",
        "--model",
        neox_model,
        "--facts",
        facts_file,
        "--templates",
        templates_file,
        "--out",
        out,
        "--counts",
        counts_file,
        "--samples",
        "3",
        "--max-new-tokens",
        "4",
        "--no-progress",
    )
    assert code == 0, stderr
    assert "6 facts" in stdout
    frame = release.load_model_output(fake_release, "tiny")
    assert frame["idx"].tolist() == [f["idx"] for f in FACTS]
    assert frame["time_s1j1"].tolist() == [3, 4, 5, 6, 7, 8]
    assert (frame["n_answers"] == frame["rel"].map(lambda rel: 3 * len(TEMPLATES[rel]))).all()


def test_cli_on_release_facts_and_templates(release_dir, tmp_path, run_cli):
    facts = formats.load_facts(release.facts_path(release_dir)).groupby("rel").head(1).head(6)
    templates = release.load_templates(release_dir / "infer" / "multi_templates.json")
    model = testing.save_tiny_model(tmp_path / "model", testing.facts_vocabulary(facts, templates))
    facts_file = write_json(tmp_path / "facts.json", facts.to_dict("records"))
    outputs = []
    for name in ("a.json", "b.json"):
        code, _, stderr = run_cli(
            "probe",
            "--model",
            model,
            "--facts",
            facts_file,
            "--templates",
            release_dir / "infer" / "multi_templates.json",
            "--out",
            tmp_path / name,
            "--samples",
            "2",
            "--max-new-tokens",
            "6",
            "--no-progress",
        )
        assert code == 0, stderr
        outputs.append((tmp_path / name).read_text())
    assert outputs[0] == outputs[1]
    records = json.loads(outputs[0])
    assert [r["n_answers"] for r in records] == [40] * 6
    assert all(0 <= r["acc"] <= 1 for r in records)


@pytest.mark.parametrize(
    ("templates", "facts", "model", "message"),
    [
        ({"capital": ["[S] is the capital of", "capital of"], "born": ["[S] was born in"]}, FACTS, None, "has no [S]"),
        ({"capital": [], "born": ["[S] was born in"]}, FACTS, None, "relation 'capital' has no templates"),
        ({"born": ["[S] was born in"]}, FACTS, None, "record 0 (idx 1): relation 'capital' has no templates in"),
        (TEMPLATES, [{"idx": 1, "subj": "Paris", "rel": "capital"}], None, "record 0 (idx 1): missing field 'obj'"),
        (TEMPLATES, FACTS, "empty", "model does not load"),
        (TEMPLATES, FACTS, "absent", "model folder not found"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(templates, facts, model, message, neox_model, tmp_path, run_cli):
    if model == "empty":
        model_path = tmp_path / "empty_model"
        model_path.mkdir()
        write_json(model_path / "config.json", {"model_type": "gpt_neox"})
    elif model == "absent":
        model_path = tmp_path / "no_such_model"
    else:
        model_path = neox_model
    out = tmp_path / "out.json"
    code, _stdout, stderr = run_cli(
        "probe",
        "--model",
        model_path,
        "--facts",
        write_json(tmp_path / "f.json", facts),
        "--templates",
        write_json(tmp_path / "t.json", templates),
        "--out",
        out,
        "--no-progress",
    )
    assert code == 2
    assert message in stderr and stderr.startswith("smi: error: ") and stderr.count("\n") == 1
    assert not out.exists() and not probing.partial_path(out).exists()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_without_vllm_says_so(neox_model):
    with pytest.raises(SmiError, match="vllm package is not installed"):
        probing.load_generator(neox_model, probing.ProbeSettings(), backend="vllm")


def test_settings_reject_nonsense():
    with pytest.raises(SmiError, match=r"^samples must be from 1 to 1,000 \(got 0\)"):  # the CLI says --samples
        probing.ProbeSettings(samples=0)
    with pytest.raises(SmiError, match=r"^temperature must be"):
        probing.ProbeSettings(temperature=0)
    with pytest.raises(SmiError, match="valid rules"):
        probing.ProbeSettings(match="fuzzy")


def test_only_the_continuation_is_scored_not_the_prompt(neox_model, tmp_path):
    """The release scored some answers together with their prompt, so every fact whose object is
    written in the subject's name got accuracy 1. Here 'Madrid' is in 'Real Madrid' and must still be earned."""
    facts = pd.DataFrame([{"idx": 9, "subj": "Real Madrid", "rel": "capital", "obj": "Madrid"}])
    settings = probing.ProbeSettings(samples=2, max_new_tokens=3, seed=0)
    generator = probing.load_transformers_generator(neox_model, settings)
    record = probing.probe(
        facts, TEMPLATES, generator, settings, tmp_path / "copy.json", keep_answers=True, progress=False
    )[0]
    answers = [answer for per_template in record["answers"] for answer in per_template]
    assert not any(answer.startswith("Real Madrid") for answer in answers)  # no prompt echoed back
    assert record["acc"] == pytest.approx(sum("Madrid" in answer for answer in answers) / len(answers))
    assert record["acc"] < 1.0


def test_paper_names_the_scoring_rule_and_its_old_name_is_refused():
    answers = ["Romeo and Juliet", "in Rome", "rome"]
    assert [probing.answer_contains_object(a, "Rome", "paper") for a in answers] == [True, True, False]
    with pytest.raises(SmiError, match="unknown match rule 'substring'"):
        probing.ProbeSettings(match="substring")
    with pytest.raises(SmiError, match="unknown match rule 'exact'"):
        probing.ProbeSettings(match="exact")
