"""Sentence-level statements: Punkt trained on the corpus, whole-token mentions, pattern matches, bad input."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest
from nltk.tokenize.punkt import PunktSentenceTokenizer

from helpers import write_lines
from smi import corpus_io, sentences
from smi.errors import ParameterValueError, SmiError

BORN = ["[X] was born in [Y].", "[X] is originally from [Y]."]
DIED = ["[X] died in [Y]."]


def abbreviation_corpus(documents: int = 40) -> list[str]:
    """Short documents in which "Dr." always precedes a name, while other words end sentences or not."""
    rng = random.Random(7)
    names = ["Smith", "Brown", "Jones", "Patel", "Garcia", "Kim", "Novak", "Silva"]
    places = ["Boston", "Leeds", "Lyon", "Porto", "Graz", "Turin"]
    sentence_forms = [  # every word that ends a sentence also occurs inside one
        "Dr. {name} visited the museum in {place}.",
        "The museum in {place} opened in {year} near the garden.",
        "Visitors from {place} met Dr. {name} in the garden.",
        "They stayed in {place} near the museum.",
        "In {year} the garden of the museum was visited by Dr. {name}.",
        "Dr. {name} wrote a letter about the museum.",
    ]
    texts = []
    for year in range(1800, 1800 + documents):
        forms = rng.sample(sentence_forms, 4)
        texts.append(
            " ".join(form.format(name=rng.choice(names), place=rng.choice(places), year=year) for form in forms)
        )
    return texts


def test_punkt_trained_on_the_corpus_learns_its_abbreviations():
    text = "The lecture was given by Dr. Novak in Graz. It lasted an hour."
    untrained = PunktSentenceTokenizer().tokenize(text)
    trained = sentences.train_punkt(abbreviation_corpus()).tokenize(text)
    assert untrained[0] == "The lecture was given by Dr."  # without training, "Dr." ends a sentence
    assert trained == ["The lecture was given by Dr. Novak in Graz.", "It lasted an hour."]


def test_split_sentences_numbers_documents():
    texts = abbreviation_corpus(3)
    split = sentences.split_sentences(texts, sentences.train_punkt(abbreviation_corpus()))
    assert split["doc"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert split.groupby("doc")["sentence"].agg(" ".join).tolist() == texts
    assert split["sentence"].str.startswith("Dr.").any() and not split["sentence"].str.endswith("Dr.").any()


def test_token_key_matches_whole_tokens_only():
    assert sentences.token_key("Leeds") in sentences.token_key("She was born in Leeds, England.")
    assert sentences.token_key("Leeds") not in sentences.token_key("She was born in Leedsville.")
    assert (
        sentences.token_key("[X] was born in [Y].".replace("[X]", "Al").replace("[Y]", "Rome"), strip_trailing=True)
        == " al was born in rome "
    )


def facts_frame(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["idx", "subj", "rel", "obj"])


def count(texts: list[str], facts: pd.DataFrame, patterns: list[list[str]]) -> pd.DataFrame:
    split = sentences.split_sentences(texts, sentences.train_punkt(texts))
    return sentences.count_statements(facts, split, pd.Series(patterns, index=facts.index)).set_index("idx")


def test_a_statement_needs_the_relations_wording_not_mere_cooccurrence():
    texts = [
        "Ann Ward was born in Leeds. Ann Ward later visited Leeds with her brother.",
        "Bob Stone died in Leeds after a long illness.",
        "Leeds is a city. Bob Stone never went there.",
    ]
    facts = facts_frame(
        [(10, "Ann Ward", "born", "Leeds"), (11, "Bob Stone", "born", "Leeds"), (12, "Bob Stone", "die", "Leeds")]
    )
    counts = count(texts, facts, [BORN, BORN, DIED])
    assert counts.loc[10, ["cooccur_sentences", "stated_sentences"]].tolist() == [2, 1]
    assert counts.loc[10, "example"] == "Ann Ward was born in Leeds."
    # Bob Stone and Leeds share a sentence, but it says he died there, not that he was born there
    assert counts.loc[11, ["cooccur_sentences", "stated_sentences"]].tolist() == [1, 0]
    assert counts.loc[11, "example"] == ""
    assert counts.loc[12, "stated_sentences"] == 1
    # documents: both names appear in documents 1 and 2 (in different sentences in document 2)
    assert counts.loc[11, "cooccur_docs"] == 2


def test_matching_ignores_case_but_not_word_boundaries():
    texts = ["ANN WARD WAS BORN IN LEEDS.", "Ann Ward was born in Leedsville."]
    counts = count(texts, facts_frame([(0, "Ann Ward", "born", "Leeds")]), [BORN])
    assert counts.loc[0, ["cooccur_sentences", "stated_sentences"]].tolist() == [1, 1]


def test_corpus_line_without_text_names_file_and_line(tmp_path):
    path = write_lines(
        tmp_path / "c.jsonl",
        [json.dumps({"text": "One."}), json.dumps({"title": "no text"}), json.dumps({"text": "Two."})],
    )
    with pytest.raises(SmiError, match=rf"{path}: line 2: missing field 'text'"):
        sentences.read_corpus(path)
    texts, skipped = sentences.read_corpus(path, skip_bad_lines=True)
    assert texts == ["One.", "Two."] and skipped == 1


def test_corpus_is_read_by_the_counting_reader_and_its_rules(tmp_path):
    """A byte-order mark and blank lines are fine; an empty text or a lone surrogate is a bad line here."""
    path = tmp_path / "c.jsonl"
    lines = ['{"text": "One."}', "", " \t", '{"text": "  "}', '{"text": "B\\ud800"}', '{"text": "Two."}']
    path.write_bytes(b"\xef\xbb\xbf" + "".join(line + "\n" for line in lines).encode("utf-8"))
    with pytest.raises(SmiError, match=rf"{path}: line 4: field 'text' is empty"):
        sentences.read_corpus(path)
    assert sentences.read_corpus(path, skip_bad_lines=True) == (["One.", "Two."], 2)
    write_lines(path, ["", "  "])
    with pytest.raises(SmiError, match="corpus has no documents"):
        sentences.read_corpus(path)
    with pytest.raises(SmiError, match=r"absent\.jsonl: file not found"):
        sentences.read_corpus(tmp_path / "absent.jsonl")


def test_read_file_documents_reads_a_whole_file_and_checks_each_text(tmp_path):
    def no_digits(text: str) -> str | None:
        return "digits in the text" if any(c.isdigit() for c in text) else None

    texts = ["Ann.", "Bob 2.", "Cy."]
    for name in ("c.jsonl", "c.txt"):  # a name without a corpus suffix is read as JSON lines
        path = write_lines(tmp_path / name, [json.dumps({"body": text}) for text in texts])
        assert list(corpus_io.read_file_documents(path, "body")) == texts
        with pytest.raises(SmiError, match=rf"{name}: line 2: digits in the text"):
            list(corpus_io.read_file_documents(path, "body", check_text=no_digits))
        skipped = corpus_io.SkipLog()
        assert list(corpus_io.read_file_documents(path, "body", skipped, no_digits)) == ["Ann.", "Cy."]
        assert skipped.count == 1 and skipped.examples == [f"{path}:2: digits in the text"]
    table = tmp_path / "c.parquet"
    pd.DataFrame({"text": texts}).to_parquet(table)
    with pytest.raises(SmiError, match=r"c.parquet: row 2: digits in the text"):
        list(corpus_io.read_file_documents(table, check_text=no_digits))
    with pytest.raises(SmiError, match=r"absent\.jsonl: file not found"):
        corpus_io.read_file_documents(tmp_path / "absent.jsonl")  # at once, before any text is asked for


def test_sentences_cli_counts_per_fact_with_the_same_idx(tmp_path, run_cli):
    root = tmp_path / "pararel"
    for pid, patterns, facts in [("P19", BORN, [("Ann Ward", "Leeds")]), ("P20", DIED, [("Bob Stone", "Leeds")])]:
        (root / "data" / "trex_lms_vocab").mkdir(parents=True, exist_ok=True)
        (root / "data" / "pattern_data" / "graphs_json").mkdir(parents=True, exist_ok=True)
        (root / "data" / "trex_lms_vocab" / f"{pid}.jsonl").write_text(
            "".join(json.dumps({"sub_label": s, "obj_label": o, "uuid": s}) + "\n" for s, o in facts)
        )
        (root / "data" / "pattern_data" / "graphs_json" / f"{pid}.jsonl").write_text(
            "".join(json.dumps({"pattern": p}) + "\n" for p in patterns)
        )
    facts_path = tmp_path / "facts.csv"
    facts_frame([(7, "Ann Ward", "born", "Leeds"), (3, "Bob Stone", "die", "Leeds")]).to_csv(facts_path, index=False)
    corpus = write_lines(
        tmp_path / "c.jsonl",
        [
            json.dumps({"text": t})
            for t in ["Ann Ward was born in Leeds.", "Bob Stone lived in Leeds.", "Ann Ward is originally from Leeds."]
        ],
    )
    out = tmp_path / "counts.csv"
    code, stdout, err = run_cli(
        "triples", "sentences", "--facts", facts_path, "--corpus", corpus, "--pararel", root, "--out", out
    )
    assert code == 0, err
    assert "mentioned together in a sentence: 2, stated: 1" in stdout
    counts = pd.read_csv(out).set_index("idx")
    assert counts.loc[7, "stated_sentences"] == 2 and counts.loc[3, "stated_sentences"] == 0

    bad_corpus = write_lines(tmp_path / "bad.jsonl", [json.dumps({"text": "A."}), "{not json"])
    code, _, err = run_cli(
        "triples", "sentences", "--facts", facts_path, "--corpus", bad_corpus, "--pararel", root, "--out", out
    )
    assert code == 2 and f"{bad_corpus}: line 2: malformed JSON" in err

    facts_frame([(1, "Ann Ward", "married", "Leeds")]).to_csv(facts_path, index=False)
    code, _, err = run_cli(
        "triples", "sentences", "--facts", facts_path, "--corpus", corpus, "--pararel", root, "--out", out
    )
    assert code == 2 and "unknown relation class 'married'" in err


def test_excerpt_keeps_both_names_of_a_long_sentence():
    from smi.sentences import excerpt

    preamble, rest = "With a long preamble about other things, " * 5, "and more. " * 20
    sentence = preamble + "Damascus is the capital of Syria, " + rest
    cut = excerpt(sentence, "Syria", "Damascus", width=80)
    assert len(cut) <= 80 and "Damascus is the capital of Syria" in cut
    assert cut.startswith("…") and cut.endswith("…")
    assert excerpt("Damascus is the capital of Syria.", "Syria", "Damascus") == "Damascus is the capital of Syria."
    assert excerpt(sentence, "Nowhere", "Neither", width=40) == sentence[:38] + "…"
    with pytest.raises(ParameterValueError, match=r"^width must be at least 20 characters \(got 19\)$"):
        excerpt(sentence, "Syria", "Damascus", width=19)
