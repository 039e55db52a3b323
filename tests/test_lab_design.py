"""The lab's names, tokenizer, ranking protocol, designed corpus, chance and bootstrap (fast, reduced sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smi.lab import corpus as lab_corpus
from smi.lab import tokenizer as lab_tokenizer
from smi.lab import vocabulary

TINY = lab_corpus.CorpusSettings(seed=4, people=30, organisations=6, max_stated=32)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab_design") / "corpus"
    lab_corpus.write_corpus(lab_corpus.generate_corpus(TINY), out)
    return out


# --------------------------------------------------------------------------- names and tokens


def test_names_are_syllables_and_no_probe_prompt_has_an_unknown_token(tiny_corpus):
    facts = json.loads((tiny_corpus / "facts.json").read_text())
    texts = lab_corpus.read_documents(tiny_corpus)
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
