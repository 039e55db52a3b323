"""The lab's names, tokenizer, ranking protocol, designed corpus, chance and bootstrap (fast, reduced sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smi import formats
from smi.lab import corpus as lab_corpus
from smi.lab import model as lab_model
from smi.lab import power, vocabulary
from smi.lab import settings as lab_settings
from smi.lab import tokenizer as lab_tokenizer

TINY = lab_settings.CorpusSettings(seed=4, people=30, organisations=6, max_stated=32)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab_design") / "corpus"
    lab_corpus.write_corpus(power.generate_corpus(TINY), out)
    return out


# --------------------------------------------------------------------------- names and tokens


def test_names_are_syllables_and_no_probe_prompt_has_an_unknown_token(tiny_corpus):
    facts = json.loads((tiny_corpus / "facts.json").read_text())
    texts = lab_corpus.corpus_documents(tiny_corpus)
    subjects = [fact["subj"] for fact in facts]
    tokenizer = lab_tokenizer.train_lab_tokenizer(texts, subjects)
    again = lab_tokenizer.train_lab_tokenizer(texts, subjects)
    assert tokenizer.get_vocab() == again.get_vocab()  # deterministic
    templates = {r.name: r.prompts for r in vocabulary.RELATIONS}
    unk = tokenizer.unk_token_id
    for fact in facts:
        for template in templates[fact["rel"]]:  # seen and unseen prompts
            prompt = template.replace("[S]", fact["subj"])
            ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            assert unk not in ids, prompt
            assert tokenizer.decode(ids).strip() == prompt
    words = lab_tokenizer.made_up_words(subjects)
    assert len(words) == TINY.people + TINY.organisations
    vocab = {token.lstrip("Ġ") for token in tokenizer.get_vocab()}
    for word in words:
        assert all(s in lab_tokenizer.SYLLABLES for s in (x.lower() for x in lab_tokenizer.split_syllables(word)))
        assert word not in vocab  # a name is never one embedding row
        assert len(tokenizer.tokenize(word)) >= 2
    for subject in subjects:
        assert len(tokenizer.tokenize(subject)) >= 3


def test_syllable_names_avoid_objects_and_repeat_nothing():
    rng = np.random.default_rng(0)
    names = lab_tokenizer.syllable_names(rng, 500, 3, {"Paris"}, ("Rome", "Lima"))
    assert len(set(names)) == 500
    assert not any(name.startswith(("Rome", "Lima")) for name in names)
    assert len(lab_tokenizer.SYLLABLES) == 50


# --------------------------------------------------------------------------- the ranking protocol


@pytest.fixture
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_model(tiny_corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab_model") / "model"
    return lab_model.save_initial_model(tiny_corpus, out, lab_model.model_size("s"), seed=1)


@pytest.mark.slow  # more than 10 s
def test_rank_probe_is_deterministic_across_batch_sizes_and_readable_by_fit(
    tiny_corpus, tiny_model, tmp_path, run_cli, one_thread
):
    from smi import probing

    outputs = []
    for batch_size, chunk in ((5, 3), (256, 64)):
        out = tmp_path / f"rank{batch_size}.json"
        code, stdout, err = run_cli(
            "probe",
            "--protocol",
            "rank",
            "--model",
            tiny_model,
            "--facts",
            tiny_corpus / "facts.json",
            "--templates",
            tiny_corpus / "templates.json",
            "--out",
            out,
            "--batch-size",
            batch_size,
            "--chunk-facts",
            chunk,
            "--no-progress",
        )
        assert code == 0, err
        assert "rank-1 accuracy" in stdout
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1]
    frame = probing.load_probe_output(tmp_path / "rank5.json")  # what smi fit reads
    assert len(frame) == 5 * TINY.people + TINY.organisations
    for record in outputs[0]:
        assert record["acc"] == record["rank1_acc"]
        assert 0 <= record["p_true"] <= 1 and 1 <= record["rank"] <= record["n_candidates"]
        assert record["n_answers"] == 3


def test_rank_scores_are_each_candidates_own_log_likelihood(tiny_corpus, tiny_model, one_thread):
    import torch

    from smi.probing import ranking

    facts = json.loads((tiny_corpus / "facts.json").read_text())
    scorer = ranking.load_rank_scorer(str(tiny_model), batch_size=4)
    pool = sorted({fact["obj"] for fact in facts if fact["rel"] == "born"})
    prompt = f"{facts[0]['subj']} was born in"
    scores = scorer.score(prompt, pool)
    n_prompt = len(scorer.tokenizer(prompt)["input_ids"])
    for candidate, score in zip(pool, scores):
        ids = scorer.tokenizer(f"{prompt} {candidate}")["input_ids"]
        with torch.inference_mode():
            logprobs = torch.log_softmax(scorer.model(torch.tensor([ids])).logits[0].double(), -1)
        manual = sum(float(logprobs[j - 1, ids[j]]) for j in range(n_prompt, len(ids)))
        assert score == pytest.approx(manual, abs=1e-4)
    summary = ranking.rank_summary(np.array([-1.0, -1.0, -3.0]), 0)
    assert summary["rank1"] == 0.5 and summary["rank"] == 1.5
    assert ranking.rank_summary(np.array([-2.0, -1.0]), 0)["rank1"] == 0.0


def test_rank_probe_works_on_another_architecture(tmp_path, one_thread):
    import pandas as pd

    from smi import testing
    from smi.probing import ranking

    facts = pd.DataFrame({"idx": [0, 1], "subj": ["Ada", "Bob"], "rel": ["born", "born"], "obj": ["Paris", "Rome"]})
    templates = {"born": ["[S] was born in", "[S] is from"]}
    model = testing.save_tiny_model(tmp_path / "llama", testing.facts_vocabulary(facts, templates), "llama")
    scorer = ranking.load_rank_scorer(str(model))
    records = ranking.probe_rank(facts, templates, scorer, tmp_path / "out.json", progress=False)
    assert [r["n_candidates"] for r in records] == [2, 2]


# --------------------------------------------------------------------------- the crossed design


def test_crossed_design_counts_equal_truth_and_cooccurrence_is_the_stating_count(tmp_path, run_cli):
    import pandas as pd

    from smi.lab import design

    code, _, err = run_cli(
        "lab", "corpus", "--design", "crossed", "--facts-per-relation", "15", "--seed", "2", "--out", tmp_path / "c"
    )
    assert code == 0, err
    code, _, err = run_cli(
        "count",
        "--facts",
        tmp_path / "c" / "facts.json",
        "--out",
        tmp_path / "counts.csv",
        "--no-progress",
        tmp_path / "c" / "corpus.jsonl",
    )
    assert code == 0, err
    counts = formats.read_counts(tmp_path / "counts.csv")
    truth = lab_corpus.read_truth(tmp_path / "c")
    merged = counts.merge(truth, on="idx", validate="one_to_one")
    assert len(merged) == 6 * 15
    assert (merged["time_subj"] == merged["subj_docs"]).all()
    assert (merged["time_obj"] == merged["obj_docs"]).all()
    assert (merged["time_s1j1"] == merged["both_docs"]).all()
    assert (merged["time_s1j1"] == merged["k"]).all()  # co-occurrence fixed by k, whatever the arms
    assert (merged["subj_docs"] == merged["k"] + merged["competitor_docs"] + merged["subject_extra_docs"]).all()
    for column in design.DESIGN_COLUMNS:
        assert column in truth.columns
    # relations have disjoint object pools
    facts = pd.read_json(tmp_path / "c" / "facts.json")
    owners = facts.groupby("obj")["rel"].nunique()
    assert (owners == 1).all()
    assert (truth["competitor"] != facts["obj"]).all()


def test_default_crossed_design_fills_every_cell_and_moves_mi_at_fixed_k():
    import pandas as pd

    from smi import metrics
    from smi.lab import design

    generated = design.generate_crossed(design.DesignSettings(seed=1))
    truth = generated.truth
    for column in ("competitor_level", "subject_level", "object_level"):
        cells = truth.groupby(["k", column]).size()
        assert len(cells) == 5 * 3 and cells.min() >= 30, column
    # levels are balanced within k and independent of each other
    assert pd.crosstab(truth["subject_level"], truth["object_level"]).to_numpy().min() > 0
    counts = pd.DataFrame(
        {
            "time_seqs": len(generated.documents),
            "time_subj": truth["subj_docs"],
            "time_obj": truth["obj_docs"],
            "time_s1j1": truth["both_docs"],
        }
    )
    truth["mi"] = metrics.mutual_information(counts)
    at_8 = truth[truth["k"] == 8]
    for column in ("subject_level", "object_level"):
        means = at_8.groupby(column)["mi"].mean()
        assert means["none"] > means["many"], column
    assert at_8["mi"].std() > 0.1 * at_8["mi"].mean()
    with pytest.raises(Exception, match="facts_per_relation"):
        design.DesignSettings(facts_per_relation=20)


def test_crossed_option_errors_are_one_line(tmp_path, run_cli):
    code, _, err = run_cli("lab", "corpus", "--design", "crossed", "--facts-per-relation", "7", "--out", tmp_path / "c")
    assert code == 2 and err.count("\n") == 1 and "facts-per-relation" in err


# --------------------------------------------------------------------------- chance and the bootstrap


def test_prior_chance_leaves_out_the_facts_own_statements():
    import pandas as pd

    from smi.lab import chance

    facts = pd.DataFrame({"rel": ["r", "r", "r", "q", "q"], "obj": ["A", "A", "B", "X", "Y"]})
    stated = [4, 2, 6, 0, 0]
    got = chance.prior_chance(facts, stated)
    # fact 0: other statements of r are 2 (A) + 6 (B): 2 / 8; fact 2: no other statement names B: 0 / 6
    assert got[0] == pytest.approx(2 / 8) and got[1] == pytest.approx(4 / 10) and got[2] == pytest.approx(0.0)
    assert got[3] == pytest.approx(0.5) and got[4] == pytest.approx(0.5)  # nothing stated: 1 / pool


def test_shuffled_subjects_are_a_derangement_within_each_relation():
    from smi.lab import chance, design

    facts = design.generate_crossed(design.DesignSettings(seed=2, facts_per_relation=15)).facts
    control = chance.shuffled_subject_facts(facts, seed=5)
    assert (control["subj"] != facts["subj"]).all()
    assert (control["obj"] == facts["obj"]).all() and (control["idx"] == facts["idx"]).all()
    for rel, group in control.groupby("rel"):
        assert sorted(group["subj"]) == sorted(facts.loc[facts["rel"] == rel, "subj"])
    assert control.equals(chance.shuffled_subject_facts(facts, seed=5))
    assert not control["subj"].equals(chance.shuffled_subject_facts(facts, seed=6)["subj"])


def test_hierarchical_weights_resample_seeds_then_facts():
    from smi.lab import bootstrap

    seeds = np.repeat([0, 1, 2], 10)
    weights = bootstrap.hierarchical_weights(seeds, 200, 0)
    assert weights.shape == (200, 30) and np.allclose(weights.sum(axis=1), 30)
    per_seed = np.stack([weights[:, seeds == s].sum(axis=1) for s in (0, 1, 2)], axis=1)
    assert set(np.unique(per_seed)) <= {0, 10, 20, 30}  # whole seeds are drawn
    assert (per_seed == 0).any()  # some resample leaves a seed out
    single = bootstrap.hierarchical_weights(np.zeros(10), 50, 0)
    assert np.allclose(single.sum(axis=1), 10)


def test_arm_table_finds_a_planted_effect_and_only_it():
    import pandas as pd

    from smi.lab import bootstrap

    rng = np.random.default_rng(0)
    rows = []
    for seed in range(3):
        for k in (0, 2, 4, 8, 16):
            for number in range(90):
                levels = {
                    arm: ("none", "some", "many")[(number // 3**i) % 3]
                    for i, arm in enumerate(bootstrap.ARM_LEVEL_COLUMNS)
                }
                acc = min(1.0, k / 16) * (0.5 if levels["subject"] == "many" else 1.0)
                rows.append(
                    {
                        "seed": seed,
                        "size": "m",
                        "k": k,
                        "acc": acc + rng.normal(0, 0.01),
                        "mi": k * (0.5 if levels["subject"] == "many" else 1.0) / 1000,
                        "cooccur": k,
                        **{column: levels[arm] for arm, column in bootstrap.ARM_LEVEL_COLUMNS.items()},
                    }
                )
    table = bootstrap.arm_table(pd.DataFrame(rows), n_boot=100)
    assert list(table.columns) == bootstrap.ARM_COLUMNS
    many = table[(table["arm"] == "subject") & (table["level"] == "many") & (table["k"] == "16")].iloc[0]
    assert many["effect"] == pytest.approx(-0.5, abs=0.01) and many["lo"] < -0.45 and many["hi"] < 0
    other = table[(table["arm"] == "object") & (table["level"] == "many") & (table["k"] == "all")].iloc[0]
    assert other["lo"] <= 0 <= other["hi"]
    r2 = table[(table["arm"] == "subject") & (table["level"] == "r2_mi_minus_cooccur")].iloc[0]
    assert r2["n_dropped"] > 0  # the k = 0 facts have MI 0
    assert (table["seeds"] == 3).all()


def test_headline_checks_use_intervals_over_seeds_and_facts():
    import pandas as pd

    from smi.lab import bootstrap

    rng = np.random.default_rng(1)
    rows = []
    for seed in range(3):
        for k in (0, 2, 4, 8, 16):
            for _ in range(60):
                chance = float(rng.random() < 0.15)
                acc = float(rng.random() < (0.15 if k == 0 else min(0.95, 0.3 + k / 20)))
                rows.append({"seed": seed, "size": "l", "k": k, "acc": acc, "chance_acc": chance, "prior_chance": 0.14})
    result = bootstrap.headline(pd.DataFrame(rows), "l", n_boot=200)
    assert result["well_known_ok"] and result["rising_ok"] and result["unstated_difference_ok"]
    for name in ("well_known_acc", "unstated_acc", "unstated_chance_acc", "spearman"):
        entry = result[name]
        assert entry["lo"] <= entry["value"] <= entry["hi"], name
    assert result["seeds"] == 3


def test_every_size_shares_one_width_scaled_learning_rate():
    rates = [size.learning_rate for size in lab_model.SIZES.values()]
    assert rates == [lab_model.width_scaled_learning_rate(size.hidden) for size in lab_model.SIZES.values()]
    assert rates == sorted(rates, reverse=True)


@pytest.mark.parametrize("option", [["--seeds", "0"], ["--jobs", "0"], ["--seeds", "1000"]])
def test_bad_seeds_or_jobs_are_one_line(tmp_path, run_cli, option):
    code, _, err = run_cli("lab", "run", "--out", tmp_path / "run", "--quick", *option)
    assert code == 2 and err.count("\n") == 1 and option[0] in err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # more than 10 s
def test_a_job_gives_the_same_model_and_records_inline_and_in_a_worker_process(tiny_corpus, tmp_path):
    """Scheduling cannot change results: a (seed, size) job run in this process and in a spawned worker agree."""
    import pandas as pd

    from smi.lab import chance, experiment, train

    facts = pd.read_json(tiny_corpus / "facts.json")
    templates = json.loads((tiny_corpus / "templates.json").read_text())
    control = chance.shuffled_subject_facts(facts, 0).drop(columns="true_subj")

    def job(folder: str) -> dict:
        probes = [
            {
                "name": f"{name}/xs",
                "out": str(tmp_path / folder / name / "xs.json"),
                "facts": frame.to_dict("records"),
                "templates": templates,
                "pools": None,
                "key": "k",
                "reuse": None,
            }
            for name, frame in (("probe", facts), ("probe_control", control))
        ]
        return {
            "seed_index": 0,
            "size": "xs",
            "corpus_dir": str(tiny_corpus),
            "model_dir": str(tmp_path / folder / "models" / "xs"),
            "training": {**train.TrainSettings(epochs=0.3, batch_size=8).__dict__},
            "device": "cpu",
            "protocol": "rank",
            "probe": {"samples": 1, "temperature": 0.7, "max_new_tokens": 4, "batch_size": 64},
            "probe_seed": 0,
            "probes": probes,
        }

    inline = experiment.run_jobs([job("a")], lambda _: [], [], jobs=1)[0]
    spawned = experiment.run_jobs([job("b")], lambda _: [], [], jobs=2)[0]
    assert inline["model_key"] == spawned["model_key"]
    for name in ("probe/xs", "probe_control/xs"):
        assert inline["outputs"][name]["records"] == spawned["outputs"][name]["records"]
    weights = [(tmp_path / f / "models" / "xs" / "model.safetensors").read_bytes() for f in ("a", "b")]
    assert weights[0] == weights[1]
