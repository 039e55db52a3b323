r"""The power-law lab corpus (``smi lab corpus --design power``): knobs that vary independently across facts.

:func:`generate_corpus` draws entities, facts and documents about made-up people and
organisations with one seeded random generator (:class:`smi.lab.settings.CorpusSettings`
holds the knobs); :func:`smi.lab.corpus.write_corpus` writes it as a lab folder.

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
(Poisson with mean ``filler_rate``) from the vital-article summaries (:mod:`smi.lab.filler`).
The truth table is counted as the documents are placed (:func:`smi.lab.truth.truth_table`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smi.errors import ParameterValueError
from smi.lab import filler as lab_filler
from smi.lab import tokenizer as lab_tokenizer
from smi.lab import truth as lab_truth
from smi.lab import vocabulary
from smi.lab.corpus import LabCorpus
from smi.lab.settings import CorpusSettings


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

    ``filler`` is the pool of filler sentences (default: :func:`smi.lab.filler.vital_filler`).
    The same settings and filler give the same corpus, byte for byte.

    Parameters
    ----------
    settings : CorpusSettings
        Sizes, exponents and seed of the corpus.
    filler : list of str or None
        Filler sentences; :func:`smi.lab.filler.vital_filler` when None.

    Returns
    -------
    LabCorpus
        Documents, facts, truth table and metadata.

    Raises
    ------
    ParameterValueError
        When the filler pool is empty (``filler_vocabulary`` too small).
    """
    rng = np.random.default_rng(settings.seed)
    filler = lab_filler.vital_filler(settings.filler_vocabulary) if filler is None else list(filler)
    if not filler:
        raise ParameterValueError(
            "filler_vocabulary", "is too small: the filler pool is empty (no sentence passes the filter)"
        )
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
        or [vocabulary.fill_sentence(t, obj=obj) for t in vocabulary.OBJECT_SENTENCES[kinds[obj]]]
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
        docs = [[vocabulary.fill_sentence(intros[rng.integers(len(intros))], subject)] for _ in range(count)]
        bodies: list[list[str]] = [[] for _ in range(count)]
        for row in rows:
            relation = relations[facts["rel"].iloc[row]]
            obj = facts["obj"].iloc[row]
            prompts = [relation.seen[i] for i in rng.permutation(len(relation.seen))[: paraphrases[row]]]
            hosts = rng.permutation(count)[: stated[row] + mentions[row]]
            for number, host in enumerate(hosts):
                if number < stated[row]:
                    sentence = vocabulary.fill_sentence(prompts[rng.integers(len(prompts))], subject) + " " + obj + "."
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

    truth = lab_truth.truth_table(documents, facts, stated, mentions, paraphrases)
    texts = [" ".join(sentences) for sentences in documents]
    used = set(facts["rel"])
    templates = {relation.name: list(relation.seen) for relation in vocabulary.RELATIONS if relation.name in used}
    unseen = {relation.name: list(relation.unseen) for relation in vocabulary.RELATIONS if relation.name in used}
    return LabCorpus(settings, texts, facts, templates, unseen, truth, {"filler_sentences": len(filler)})
