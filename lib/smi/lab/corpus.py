r"""A corpus whose knowledge is known: documents about made-up people and organisations.

:func:`generate_corpus` draws entities, facts and documents with one seeded
random generator; :func:`write_corpus` writes the lab folder that every other
command reads:

``corpus.jsonl``
    one document per line, field ``text`` (what ``smi count`` and training read);
``facts.json``
    the facts, a JSON list of ``idx, subj, rel, obj`` (the release's format);
``templates.json``
    ``{relation: [prompt with [S], ...]}``: the relation's three prompts that the
    corpus uses; each fact is stated in 1–3 of them (its ``paraphrases``), so most
    facts are also asked in phrasings never used for them;
``unseen_templates.json``
    one more prompt per relation that no document uses (a question never asked in training);
``truth.csv``
    per fact: ``idx, subj_docs, obj_docs, both_docs`` (documents containing the
    subject, the object and both under the paper's matching rule), ``stated_docs``
    (documents stating the fact) and the other knobs (``mention_docs``,
    ``paraphrases``, ``answer_share``);
``lab.json``
    the settings, the number of documents and a SHA-256 of every file above.

Knobs that vary independently across facts
------------------------------------------
* **exposure** :math:`k_f`, the documents stating fact :math:`f`: 0 with
  probability ``zero_share``, else a discrete power law on
  :math:`1..K` (``max_stated``), :math:`P(k) \propto k^{-\alpha}` (``exposure_exponent``);
* **co-mentions** :math:`m_f`: documents about the subject that also name the
  object in an unrelated sentence ("About Anna Kell. … Paris is the capital of
  France."), without stating the fact: 0 with probability ``1 - mention_share``,
  else uniform on :math:`1..M`;
* **paraphrases** :math:`d_f`: how many of the relation's seen prompts state it
  (uniform on 1..3);
* **subject without the fact**: every subject :math:`s` has
  :math:`D_s = \max(1, \max_f (k_f + m_f)) + e_s` documents, with :math:`e_s`
  extra documents drawn log-uniformly on :math:`0..E` (``max_extra_docs``);
* **object popularity** within a relation: objects are drawn with Zipf weights
  :math:`w_r \propto r^{-\gamma}` (``popularity_exponent``) over a shuffled pool, and
  every object also gets :math:`b_o` documents of its own (log-uniform on :math:`0..B`,
  ``max_background``), made of filler sentences that mention it.

Documents about a subject open with an introduction naming it, carry the
statements and co-mentions assigned to them, and a number of filler sentences
(Poisson with mean ``filler_rate``) from the vital-article summaries.

The truth by construction
-------------------------
The paper's rule (``smi count --match paper``) says that a document contains a
name when ``" " + name`` occurs in it. Documents are sentences joined by single
spaces; names hold only letters and spaces and every sentence ends with ``.``,
so an occurrence never spans two sentences. Each sentence is scanned once when it
is placed (:func:`names_in_sentence`: at each position after a space, the names
that start there; the first sentence of a document has no space before its first
character), and a document contains the union of its sentences' names. This is an
independent implementation of the rule; ``tests/test_lab.py`` checks that
``smi count`` agrees on every fact.

The guessing baseline
---------------------
``answer_share`` is the share of the relation's stating documents whose object is
the fact's object, :math:`p_r(o)`: the answer distribution a model can learn
for the relation without knowing the subject. :func:`guessing_baseline` turns it
into the accuracy of a guesser that samples from it at the probe's temperature.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smi.errors import ParameterValueError, SmiError
from smi.files import atomic_outputs
from smi.lab import tokenizer as lab_tokenizer
from smi.lab import vocabulary
from smi.lab.settings import CorpusSettings

#: The files of a lab corpus folder, in the order they are renamed into place (lab.json last).
CORPUS_FILES = ("corpus.jsonl", "facts.json", "templates.json", "unseen_templates.json", "truth.csv", "lab.json")
TRUTH_COLUMNS = [
    "idx",
    "subj_docs",
    "obj_docs",
    "both_docs",
    "stated_docs",
    "mention_docs",
    "paraphrases",
    "answer_share",
]
#: Bumped whenever the generator's output for given settings changes.
GENERATOR_VERSION = 2
_FILLER_SENTENCE = re.compile(r"[A-Z][A-Za-z ,'-]*[a-z]\.")
_WORDS = re.compile(r"\w+|[^\w\s]+")


@dataclass
class LabCorpus:
    """A generated corpus: documents, facts, prompts and the truth table."""

    settings: CorpusSettings
    documents: list[str]
    facts: pd.DataFrame
    templates: dict[str, list[str]]
    unseen_templates: dict[str, list[str]]
    truth: pd.DataFrame
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- random draws


def power_law_counts(rng: np.random.Generator, n: int, maximum: int, exponent: float, zero_share: float) -> np.ndarray:
    r"""``n`` counts: 0 with probability ``zero_share``, else :math:`P(k) \propto k^{-\alpha}` on 1..``maximum``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    n : int
        How many counts.
    maximum : int
        The largest count.
    exponent : float
        The power law's exponent α.
    zero_share : float
        The probability of a zero.

    Returns
    -------
    numpy.ndarray
        The counts.
    """
    support = np.arange(1, maximum + 1)
    weights = support.astype(float) ** -exponent
    draws = rng.choice(support, size=n, p=weights / weights.sum())
    return np.where(rng.random(n) < zero_share, 0, draws)


def log_uniform_counts(rng: np.random.Generator, n: int, maximum: int) -> np.ndarray:
    """``n`` counts on 0..``maximum`` with :math:`\\log(1 + c)` uniform (many small, a few large).

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    n : int
        How many counts.
    maximum : int
        The largest count.

    Returns
    -------
    numpy.ndarray
        The counts.
    """
    return np.floor(np.exp(rng.random(n) * math.log(maximum + 1))).astype(int) - 1


def made_up_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """``n`` distinct capitalised made-up words of two or three syllables, none in ``taken``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    n : int
        How many names.
    taken : set of str
        Names not to use.

    Returns
    -------
    list of str
        The names.
    """
    names: list[str] = []
    seen = set(taken)
    while len(names) < n:
        syllables = 2 + int(rng.random() < 0.3)
        word = "".join(
            vocabulary.ONSETS[rng.integers(len(vocabulary.ONSETS))]
            + vocabulary.VOWELS[rng.integers(len(vocabulary.VOWELS))]
            + vocabulary.CODAS[rng.integers(len(vocabulary.CODAS))]
            for _ in range(syllables)
        )
        word = word[0] + word[1:].lower()
        if word not in seen and len(word) >= 4:
            seen.add(word)
            names.append(word)
    return names


# --------------------------------------------------------------------------- filler text


def filler_pool(texts: list[str], vocabulary_size: int) -> list[str]:
    """Short plain sentences of ``texts`` whose every word is among its ``vocabulary_size`` most frequent.

    Sentences are cut after ``.``, ``!`` or ``?`` followed by a capital; a kept
    sentence has 6–18 words of letters, commas, apostrophes and hyphens, starts
    with a capital and ends with a full stop. Keeping to frequent words keeps the
    trained tokenizer's vocabulary small.

    Parameters
    ----------
    texts : list of str
        Source texts.
    vocabulary_size : int
        How many of the most frequent words a sentence may use.

    Returns
    -------
    list of str
        The distinct sentences kept, in order of appearance.
    """
    sentences = [s for text in texts for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text)]
    counts: dict[str, int] = {}
    for sentence in sentences:
        for word in _WORDS.findall(sentence):
            counts[word] = counts.get(word, 0) + 1
    frequent = {word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:vocabulary_size]}
    pool = [
        s
        for s in sentences
        if 6 <= len(s.split()) <= 18
        and _FILLER_SENTENCE.fullmatch(s)
        and "  " not in s
        and all(word in frequent for word in _WORDS.findall(s))
    ]
    return sorted(set(pool))


def vital_filler(vocabulary_size: int) -> list[str]:
    """:func:`filler_pool` over the vital-article summaries (read from the installed package).

    Parameters
    ----------
    vocabulary_size : int
        As for :func:`filler_pool`.

    Returns
    -------
    list of str
        The sentences.

    Raises
    ------
    SmiError
        When the package of summaries is not installed.
    """
    from smi import corpus as packaged

    return filler_pool([record["text"] for record in packaged.vital_articles()], vocabulary_size)


# --------------------------------------------------------------------------- the paper's rule, sentence by sentence


class NameIndex:
    """Names grouped by their first two characters, for :func:`names_in_sentence`."""

    def __init__(self, names: list[str]) -> None:
        for name in names:
            if not re.fullmatch(r"[A-Za-z]+( [A-Za-z]+)*", name):
                raise SmiError(f"lab name {name!r} must be letters separated by single spaces")
        self.by_prefix: dict[str, list[str]] = {}
        for name in sorted(set(names)):
            self.by_prefix.setdefault(name[:2], []).append(name)


def names_in_sentence(sentence: str, index: NameIndex, first: bool) -> frozenset[str]:
    """Names ``n`` for which ``" " + n`` occurs in a document where this sentence follows a space.

    ``first``: the sentence opens its document, so no space precedes its first
    character. No right boundary is required (the paper's rule): ``"Niger"`` is
    found in ``"Nigeria"``.

    Parameters
    ----------
    sentence : str
        A sentence of a document.
    index : NameIndex
        The names to find.
    first : bool
        Whether the sentence opens its document.

    Returns
    -------
    frozenset of str
        The names found.
    """
    starts = [i + 1 for i, ch in enumerate(sentence) if ch == " "]
    if not first:
        starts.insert(0, 0)
    found = set()
    for start in starts:
        for name in index.by_prefix.get(sentence[start : start + 2], ()):
            if sentence.startswith(name, start):
                found.add(name)
    return frozenset(found)


# --------------------------------------------------------------------------- generation


def _fill(template: str, subject: str = "", obj: str = "") -> str:
    return template.replace(vocabulary.PLACEHOLDER_SUBJECT, subject).replace(vocabulary.PLACEHOLDER_OBJECT, obj)


def _entities(rng: np.random.Generator, settings: CorpusSettings) -> tuple[list[str], list[str]]:
    """Full names of people (first + made-up family name) and organisations (made-up stem + kind)."""
    taken = {word for pool in vocabulary.OBJECTS.values() for name in pool for word in name.split()}
    taken |= set(vocabulary.FIRST_NAMES)
    objects = sorted({name.capitalize() for pool in vocabulary.OBJECTS.values() for name in pool})
    # family names of three syllable tokens, organisation stems of two (smi.lab.tokenizer)
    family = lab_tokenizer.syllable_names(rng, settings.people, 3, taken, objects)
    stems = lab_tokenizer.syllable_names(rng, settings.organisations, 2, taken | set(family), objects)
    people = [f"{vocabulary.FIRST_NAMES[rng.integers(len(vocabulary.FIRST_NAMES))]} {name}" for name in family]
    organisations = [
        f"{stem} {vocabulary.ORGANISATION_KINDS[rng.integers(len(vocabulary.ORGANISATION_KINDS))]}" for stem in stems
    ]
    return people, organisations


def _facts(
    rng: np.random.Generator, settings: CorpusSettings, people: list[str], organisations: list[str]
) -> pd.DataFrame:
    """One fact per (entity, relation of its kind); objects drawn with Zipf weights over a shuffled pool."""
    subjects = {"person": people, "organisation": organisations}
    rows = []
    for relation in vocabulary.RELATIONS:
        pool = list(vocabulary.OBJECTS[relation.object_kind])
        order = [pool[i] for i in rng.permutation(len(pool))]
        weights = np.arange(1, len(order) + 1, dtype=float) ** -settings.popularity_exponent
        for subject in subjects[relation.subject_kind]:
            obj = order[rng.choice(len(order), p=weights / weights.sum())]
            rows.append({"subj": subject, "rel": relation.name, "obj": obj})
    facts = pd.DataFrame(rows, columns=["subj", "rel", "obj"])
    facts.insert(0, "idx", np.arange(len(facts)))
    return facts


def generate_corpus(settings: CorpusSettings = CorpusSettings(), filler: list[str] | None = None) -> LabCorpus:
    """Draw entities, facts and documents; count the truth by construction (module docstring).

    ``filler`` is the pool of filler sentences (default: :func:`vital_filler`).
    The same settings and filler give the same corpus, byte for byte.

    Parameters
    ----------
    settings : CorpusSettings
        Sizes, exponents and seed of the corpus.
    filler : list of str or None
        Filler sentences; :func:`vital_filler` when None.

    Returns
    -------
    LabCorpus
        Documents, facts, truth table and metadata.

    Raises
    ------
    SmiError
        When the filler pool is empty.
    """
    rng = np.random.default_rng(settings.seed)
    filler = vital_filler(settings.filler_vocabulary) if filler is None else list(filler)
    if not filler:
        raise SmiError("the filler pool is empty: no sentence passes the filter (raise --filler-vocabulary)")
    relations = vocabulary.relation_by_name()
    people, organisations = _entities(rng, settings)
    facts = _facts(rng, settings, people, organisations)
    n = len(facts)
    stated = power_law_counts(rng, n, settings.max_stated, settings.exposure_exponent, settings.zero_share)
    mentions = np.where(rng.random(n) < settings.mention_share, rng.integers(1, settings.max_mentions + 1, n), 0)
    paraphrases = rng.integers(1, 4, n)

    # sentences that name an object and nothing about any subject: filler that mentions it, else a plain one
    objects = sorted(set(facts["obj"]))
    kinds = {obj: relations[rel].object_kind for obj, rel in zip(facts["obj"], facts["rel"])}
    mentioning = {
        obj: [s for s in filler if f" {obj}" in f" {s}"]
        or [_fill(t, obj=obj) for t in vocabulary.OBJECT_SENTENCES[kinds[obj]]]
        for obj in objects
    }

    # documents about each subject: D_s = max(1, max_f (k_f + m_f)) + e_s
    subjects = list(dict.fromkeys(facts["subj"]))
    extra = dict(zip(subjects, log_uniform_counts(rng, len(subjects), settings.max_extra_docs)))
    by_subject = facts.groupby("subj", sort=False).indices
    documents: list[list[str]] = []
    for subject in subjects:
        rows = by_subject[subject]
        count = max(1, int((stated[rows] + mentions[rows]).max())) + int(extra[subject])
        kind = relations[facts["rel"].iloc[rows[0]]].subject_kind
        intros = vocabulary.INTRODUCTIONS[kind]
        docs = [[_fill(intros[rng.integers(len(intros))], subject)] for _ in range(count)]
        bodies: list[list[str]] = [[] for _ in range(count)]
        for row in rows:
            relation = relations[facts["rel"].iloc[row]]
            obj = facts["obj"].iloc[row]
            prompts = [relation.seen[i] for i in rng.permutation(len(relation.seen))[: paraphrases[row]]]
            hosts = rng.permutation(count)[: stated[row] + mentions[row]]
            for number, host in enumerate(hosts):
                if number < stated[row]:
                    sentence = _fill(prompts[rng.integers(len(prompts))], subject) + " " + obj + "."
                else:
                    options = mentioning[obj]
                    sentence = options[rng.integers(len(options))]
                bodies[host].append(sentence)
        for doc, body in zip(docs, bodies):
            body += [filler[rng.integers(len(filler))] for _ in range(rng.poisson(settings.filler_rate))]
            doc += [body[i] for i in rng.permutation(len(body))]
        documents += docs

    # documents about each object alone, from filler sentences that mention it
    background = log_uniform_counts(rng, len(objects), settings.max_background)
    for obj, count in zip(objects, background):
        for _ in range(count):
            body = [mentioning[obj][rng.integers(len(mentioning[obj]))]]
            body += [filler[rng.integers(len(filler))] for _ in range(rng.poisson(settings.filler_rate))]
            documents.append([body[i] for i in rng.permutation(len(body))])
    documents = [documents[i] for i in rng.permutation(len(documents))]

    truth = _truth(documents, facts, stated, mentions, paraphrases)
    texts = [" ".join(sentences) for sentences in documents]
    used = set(facts["rel"])
    templates = {relation.name: list(relation.seen) for relation in vocabulary.RELATIONS if relation.name in used}
    unseen = {relation.name: list(relation.unseen) for relation in vocabulary.RELATIONS if relation.name in used}
    return LabCorpus(settings, texts, facts, templates, unseen, truth, {"filler_sentences": len(filler)})


def _truth(
    documents: list[list[str]], facts: pd.DataFrame, stated: np.ndarray, mentions: np.ndarray, paraphrases: np.ndarray
) -> pd.DataFrame:
    """The truth table: per fact the documents with subject, object, both (paper's rule), and the knobs."""
    names = sorted(set(facts["subj"]) | set(facts["obj"]))
    index = NameIndex(names)
    cache: dict[tuple[str, bool], frozenset[str]] = {}
    docs_of: dict[str, set[int]] = {name: set() for name in names}
    for number, sentences in enumerate(documents):
        for position, sentence in enumerate(sentences):
            key = (sentence, position == 0)
            if key not in cache:
                cache[key] = names_in_sentence(sentence, index, position == 0)
            for name in cache[key]:
                docs_of[name].add(number)
    truth = pd.DataFrame(
        {
            "idx": facts["idx"],
            "subj_docs": [len(docs_of[s]) for s in facts["subj"]],
            "obj_docs": [len(docs_of[o]) for o in facts["obj"]],
            "both_docs": [len(docs_of[s] & docs_of[o]) for s, o in zip(facts["subj"], facts["obj"])],
            "stated_docs": stated,
            "mention_docs": mentions,
            "paraphrases": paraphrases,
        }
    )
    statements = facts.assign(stated=stated)
    per_object = statements.groupby(["rel", "obj"])["stated"].transform("sum")
    per_relation = statements.groupby("rel")["stated"].transform("sum").replace(0, 1)
    truth["answer_share"] = (per_object / per_relation).to_numpy()
    return truth[TRUTH_COLUMNS]


def guessing_baseline(truth: pd.DataFrame, facts: pd.DataFrame, temperature: float = 0.7) -> pd.Series:
    r"""Per fact, the accuracy of a guesser that knows each relation's answers but no subject.

    It samples an answer of relation :math:`r` from the corpus's answer shares
    :math:`p_r(o)` sharpened as the probe samples, at temperature :math:`\tau`:

    .. math:: q_r(o) = \frac{p_r(o)^{1/\tau}}{\sum_{o'} p_r(o')^{1/\tau}}

    (``temperature`` 0 or below: always the most frequent answer). Indexed like ``truth``.

    Parameters
    ----------
    truth : pandas.DataFrame
        The truth table, with idx and each fact's ``answer_share``.
    facts : pandas.DataFrame
        The facts (idx, rel, obj).
    temperature : float
        The probe's sampling temperature.

    Returns
    -------
    pandas.Series
        The guesser's probability of naming each fact's object.
    """
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


# --------------------------------------------------------------------------- files


def _sha256(path: Path) -> str:
    from smi.files import file_sha256

    return file_sha256(path)


def write_corpus(corpus: LabCorpus, out_dir: Path) -> list[Path]:
    """Write the lab folder (:data:`CORPUS_FILES`) atomically: every file is renamed into place, ``lab.json`` last.

    Parameters
    ----------
    corpus : LabCorpus
        The corpus.
    out_dir : Path
        The lab folder (created).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    SmiError
        When ``out_dir`` is a file or a file cannot be written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterValueError("out_dir", "must be a folder, and this is a file", out_dir)
    paths = [out_dir / name for name in CORPUS_FILES]
    with atomic_outputs(paths) as temporaries:
        corpus_tmp, facts_tmp, templates_tmp, unseen_tmp, truth_tmp, meta_tmp = temporaries
        with open(corpus_tmp, "w", encoding="utf-8") as handle:
            for text in corpus.documents:
                handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        facts_json = corpus.facts.to_json(orient="records", force_ascii=False, indent=1)
        facts_tmp.write_text(facts_json + "\n", encoding="utf-8")
        templates_tmp.write_text(json.dumps(corpus.templates, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        unseen_json = json.dumps(corpus.unseen_templates, indent=1, ensure_ascii=False)
        unseen_tmp.write_text(unseen_json + "\n", encoding="utf-8")
        corpus.truth.to_csv(truth_tmp, index=False, float_format="%.10g")
        meta = {
            "generator_version": GENERATOR_VERSION,
            "settings": asdict(corpus.settings),
            "documents": len(corpus.documents),
            "facts": len(corpus.facts),
            **corpus.extra,
            "sha256": {name: _sha256(tmp) for name, tmp in zip(CORPUS_FILES[:-1], temporaries[:-1])},
        }
        meta_tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return paths


def check_corpus_dir(corpus_dir: Path) -> Path:
    """Require a lab folder with every file of :data:`CORPUS_FILES`; name the first one missing.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    Path
        ``corpus_dir``.

    Raises
    ------
    SmiError
        When the folder or one of its files is missing.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise SmiError(f"{corpus_dir}: lab corpus folder not found (make one with `smi lab corpus --out {corpus_dir}`)")
    missing = [name for name in CORPUS_FILES if not (corpus_dir / name).is_file()]
    if missing:
        raise SmiError(f"{corpus_dir}: lab corpus folder has no {missing[0]} (needed: {', '.join(CORPUS_FILES)})")
    return corpus_dir


def corpus_fingerprint(corpus_dir: Path) -> str:
    """SHA-256 of the corpus text and facts as recorded in ``lab.json``, checked against the files' bytes.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    str
        The hex digest.

    Raises
    ------
    SmiError
        When ``lab.json`` is invalid or a file changed since it was written.
    """
    corpus_dir = check_corpus_dir(corpus_dir)
    meta = read_meta(corpus_dir)
    for name in CORPUS_FILES[:-1]:
        if _sha256(corpus_dir / name) != meta["sha256"].get(name):
            raise SmiError(
                f"{corpus_dir / name}: changed since lab.json was written (SHA-256 differs); regenerate the corpus"
            )
    return hashlib.sha256(json.dumps(meta["sha256"], sort_keys=True).encode()).hexdigest()


def read_meta(corpus_dir: Path) -> dict:
    """``lab.json`` of a lab folder, checked to hold the SHA-256 of every file.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    dict
        The metadata.

    Raises
    ------
    SmiError
        When ``lab.json`` is missing, invalid or lacks the hashes.
    """
    path = Path(corpus_dir) / "lab.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SmiError(f"{path}: not a lab metadata file ({error})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), dict):
        raise SmiError(f"{path}: missing field 'sha256'")
    return meta


def read_documents(corpus_dir: Path) -> list[str]:
    """The documents' texts of ``corpus.jsonl``; a line that is not a JSON object with a string ``text`` is an error.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    list of str
        The texts, in file order.

    Raises
    ------
    SmiError
        When a line is not valid JSON, ``text`` is not a string, or there is no document.
    """
    path = Path(corpus_dir) / "corpus.jsonl"
    texts = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise SmiError(f"{path}: line {number}: invalid JSON ({error.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise SmiError(f"{path}: line {number}: field 'text' must be a string")
            texts.append(record["text"])
    if not texts:
        raise SmiError(f"{path}: no documents")
    return texts


def read_truth(corpus_dir: Path) -> pd.DataFrame:
    """``truth.csv`` with every column of :data:`TRUTH_COLUMNS`.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.

    Returns
    -------
    pandas.DataFrame
        One row per fact.

    Raises
    ------
    SmiError
        When the file cannot be read or lacks a column.
    """
    path = Path(corpus_dir) / "truth.csv"
    try:
        truth = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SmiError(f"{path}: cannot read CSV ({str(error).splitlines()[0]})") from None
    missing = [column for column in TRUTH_COLUMNS if column not in truth.columns]
    if missing:
        raise SmiError(f"{path}: missing column '{missing[0]}'")
    return truth
