r"""A designed lab corpus (``smi lab corpus --design crossed``): co-occurrence fixed, MI moved by three arms.

Every subject has exactly one fact, so everything written about a subject is
about that fact. Each fact :math:`f = (s, r, o)` gets, independently of each other:

* a **stating count** :math:`k_f \in` ``levels`` (default 0, 2, 4, 8, 16), balanced
  (each relation's facts are split evenly over the levels): :math:`k_f` documents
  about :math:`s` state the fact, in 1–3 of the relation's seen prompts;
* a level (``none``/``some``/``many``) of each of three **arms**, drawn as a balanced
  random permutation within each stating level, independently across arms:

  ``competitor``
      documents about :math:`s` that name a *competing* object :math:`c \ne o` of
      the relation's pool in a neutral sentence ("About Anna Kalore. Many
      travellers visit Berlin."): ``competitor_docs[level]`` of them;
  ``subject``
      neutral documents about :math:`s` (an introduction and filler):
      ``subject_docs[level]`` of them;
  ``object``
      background documents about :math:`o` (an object sentence and filler):
      ``background_docs[level]`` per object. The level belongs to the object (all facts
      of an object share its background), so a fact's level is drawn first and its
      object then uniformly among the relation's objects of that level.

None of these adds a document holding both :math:`s` and :math:`o`, so the
co-occurrence is :math:`n_{so} = k_f` exactly, while
:math:`n_s = k_f + a_f + b_f` and :math:`n_o` grow with the arms and MI,

.. math:: \mathrm{MI} = p(s,o) \log_2 \frac{p(s,o)}{p(s)\,p(o)},

moves at fixed :math:`k_f`. To keep this exact, relations get disjoint object pools
(:func:`design_pools`: objects that are a first name, or inside another object under
the paper's substring rule, are left out), filler sentences naming any object are
not used, and the generator checks :math:`n_{so} = k_f` on every fact with the
independent scanner of :mod:`smi.lab.truth`.

``truth.csv`` holds the columns of :data:`smi.lab.corpus.TRUTH_COLUMNS`
(``mention_docs`` = the competitor documents) and :data:`DESIGN_COLUMNS`: ``k``,
``competitor_level``, ``subject_level``, ``object_level``, ``competitor_docs``,
``subject_extra_docs``, ``background_docs`` and ``competitor`` (the competing object).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smi.errors import ParameterValueError, SmiError
from smi.lab import corpus as lab_corpus
from smi.lab import filler as lab_filler
from smi.lab import power, vocabulary
from smi.lab import tokenizer as lab_tokenizer
from smi.lab import truth as lab_truth

ARMS = ("competitor", "subject", "object")
LEVEL_NAMES = ("none", "some", "many")
DESIGN_COLUMNS = [
    "k",
    "competitor_level",
    "subject_level",
    "object_level",
    "competitor_docs",
    "subject_extra_docs",
    "background_docs",
    "competitor",
]


@dataclass(frozen=True)
class DesignSettings:
    """Every knob of :func:`generate_crossed` (module docstring).

    ``facts_per_relation`` must be a multiple of ``3 × len(levels)`` so every cell is balanced.
    """

    seed: int = 0
    design: str = "crossed"
    facts_per_relation: int = 90
    levels: tuple[int, ...] = (0, 2, 4, 8, 16)
    competitor_docs: tuple[int, int, int] = (0, 2, 6)
    subject_docs: tuple[int, int, int] = (0, 2, 8)
    background_docs: tuple[int, int, int] = (0, 16, 64)
    filler_rate: float = 0.5
    filler_vocabulary: int = 2500

    def __post_init__(self) -> None:
        cell = 3 * len(self.levels)
        if self.design != "crossed":
            raise ParameterValueError("design", f"must be 'crossed' (got {self.design!r})")
        if (
            not isinstance(self.facts_per_relation, int)
            or self.facts_per_relation < cell
            or (self.facts_per_relation % cell)
        ):
            raise ParameterValueError(
                "facts_per_relation", f"must be a positive multiple of {cell} (got {self.facts_per_relation!r})"
            )
        if not self.levels or any(k < 0 for k in self.levels) or len(set(self.levels)) != len(self.levels):
            raise ParameterValueError("levels", f"must be distinct non-negative counts (got {self.levels})")
        for name in ("competitor_docs", "subject_docs", "background_docs"):
            value = getattr(self, name)
            if len(value) != 3 or any(v < 0 for v in value) or list(value) != sorted(value):
                raise ParameterValueError(name, f"must be three non-negative ascending counts (got {value})")
        if not (math.isfinite(self.filler_rate) and self.filler_rate >= 0):
            raise ParameterValueError("filler_rate", f"must be a non-negative number (got {self.filler_rate})")


def design_pools(rng: np.random.Generator) -> dict[str, list[str]]:
    """Disjoint object pools per relation; relations of one kind share the kind's usable objects out at random.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.

    Returns
    -------
    dict of str to list of str
        Each relation's objects.

    Notes
    -----
    An object is usable when it is not a first name and neither ``" " + o`` is inside
    ``" " + o'`` nor the reverse for any other object :math:`o'` (the paper's rule).
    """
    everything = [name for pool in vocabulary.OBJECTS.values() for name in pool]
    firsts = set(vocabulary.FIRST_NAMES)
    usable = {
        kind: [
            o
            for o in pool
            if o not in firsts
            and not any(o != other and f" {o}" in f" {other}" for other in everything)
            and not any(o != other and f" {other}" in f" {o}" for other in everything)
        ]
        for kind, pool in vocabulary.OBJECTS.items()
    }
    pools = {}
    for kind, objects in usable.items():
        relations = [r.name for r in vocabulary.RELATIONS if r.object_kind == kind]
        shuffled = [objects[i] for i in rng.permutation(len(objects))]
        for number, name in enumerate(relations):
            pools[name] = sorted(shuffled[number :: len(relations)])
    return pools


def _balanced(rng: np.random.Generator, n: int, values: int) -> np.ndarray:
    """A random arrangement of ``n`` labels 0..values-1, each ``n / values`` times."""
    return rng.permutation(np.arange(n) % values)


def generate_crossed(settings: DesignSettings = DesignSettings(), filler: list[str] | None = None):
    r"""Draw the crossed design's facts and documents; count the truth by construction (module docstring).

    Parameters
    ----------
    settings : DesignSettings
        The design's knobs and seed.
    filler : list of str or None
        Filler sentences (default :func:`smi.lab.filler.vital_filler`); those naming an object are dropped.

    Returns
    -------
    smi.lab.corpus.LabCorpus
        Documents, facts, templates and the truth table with :data:`DESIGN_COLUMNS`.

    Raises
    ------
    SmiError
        When no filler sentence is usable, or a fact's co-occurrence differs from its stating count.

    Notes
    -----
    For fact :math:`f`: :math:`n_{so} = k_f`, :math:`n_s = k_f + a_f + b_f`, and
    :math:`n_o = \sum_{f' : o_{f'} = o} (k_{f'}) + \#\{\text{competitor documents naming } o\} + g_o`.
    """
    rng = np.random.default_rng(settings.seed)
    filler = lab_filler.vital_filler(settings.filler_vocabulary) if filler is None else list(filler)
    relations = vocabulary.relation_by_name()
    pools = design_pools(rng)
    everything = sorted({o for pool in pools.values() for o in pool})
    filler = [s for s in filler if not any(f" {o}" in f" {s}" for o in everything)]
    if not filler:
        raise ParameterValueError("filler_vocabulary", "is too small: no filler sentence is free of object names")
    n_rel = settings.facts_per_relation
    kinds = {"person": [], "organisation": []}
    for relation in vocabulary.RELATIONS:
        kinds[relation.subject_kind].append(relation.name)
    taken = {w for pool in vocabulary.OBJECTS.values() for name in pool for w in name.split()}
    taken |= set(vocabulary.FIRST_NAMES)
    prefixes = sorted({o.capitalize() for pool in vocabulary.OBJECTS.values() for o in pool})
    n_people = n_rel * len(kinds["person"])
    family = lab_tokenizer.syllable_names(rng, n_people, 3, taken, prefixes)
    stems = lab_tokenizer.syllable_names(rng, n_rel * len(kinds["organisation"]), 2, taken | set(family), prefixes)
    people = [f"{vocabulary.FIRST_NAMES[rng.integers(len(vocabulary.FIRST_NAMES))]} {f}" for f in family]
    orgs = [f"{s} {vocabulary.ORGANISATION_KINDS[rng.integers(len(vocabulary.ORGANISATION_KINDS))]}" for s in stems]
    subjects = {"person": iter(people), "organisation": iter(orgs)}

    # object levels: each relation's pool split evenly over none/some/many
    object_level = {}
    for name in pools:
        for position, o in enumerate(pools[name][i] for i in rng.permutation(len(pools[name]))):
            object_level[o] = position % 3
    rows = []
    for relation in vocabulary.RELATIONS:
        pool = pools[relation.name]
        k_index = _balanced(rng, n_rel, len(settings.levels))
        for number in range(n_rel):
            rows.append(
                {"subj": next(subjects[relation.subject_kind]), "rel": relation.name, "k_index": int(k_index[number])}
            )
    facts = pd.DataFrame(rows)
    levels = {arm: np.zeros(len(facts), dtype=int) for arm in ARMS}
    for _, index in sorted(facts.groupby(["rel", "k_index"]).indices.items()):
        for arm in ARMS:
            levels[arm][index] = _balanced(rng, len(index), 3)
    objects, competitors = [], []
    for number, fact in enumerate(facts.itertuples(index=False)):
        pool = pools[fact.rel]
        options = [o for o in pool if object_level[o] == levels["object"][number]]
        obj = options[rng.integers(len(options))]
        others = [o for o in pool if o != obj]
        objects.append(obj)
        competitors.append(others[rng.integers(len(others))])
    facts["obj"] = objects
    facts.insert(0, "idx", np.arange(len(facts)))
    k = np.array(settings.levels)[facts["k_index"].to_numpy()]
    competitor_docs = np.array(settings.competitor_docs)[levels["competitor"]]
    subject_docs = np.array(settings.subject_docs)[levels["subject"]]
    paraphrases = rng.integers(1, 4, len(facts))

    def body() -> list[str]:
        return [filler[rng.integers(len(filler))] for _ in range(rng.poisson(settings.filler_rate))]

    def document(first: str, sentences: list[str]) -> list[str]:
        sentences = sentences + body()
        return [first] + [sentences[i] for i in rng.permutation(len(sentences))]

    documents: list[list[str]] = []
    for number, fact in enumerate(facts.itertuples(index=False)):
        relation = relations[fact.rel]
        intros = vocabulary.INTRODUCTIONS[relation.subject_kind]
        prompts = [relation.seen[i] for i in rng.permutation(len(relation.seen))[: paraphrases[number]]]
        kind_sentences = vocabulary.OBJECT_SENTENCES[relation.object_kind]

        def intro(intros=intros, subject=fact.subj) -> str:
            return vocabulary.fill_sentence(intros[rng.integers(len(intros))], subject)

        for _ in range(k[number]):
            statement = vocabulary.fill_sentence(prompts[rng.integers(len(prompts))], fact.subj) + " " + fact.obj + "."
            documents.append(document(intro(), [statement]))
        for _ in range(competitor_docs[number]):
            mention = vocabulary.fill_sentence(
                kind_sentences[rng.integers(len(kind_sentences))], obj=competitors[number]
            )
            documents.append(document(intro(), [mention]))
        for _ in range(subject_docs[number]):
            documents.append(document(intro(), []))
    background = {o: settings.background_docs[object_level[o]] for o in everything}
    kind_of = {o: relations[name].object_kind for name in pools for o in pools[name]}
    for o in everything:
        for _ in range(background[o]):
            sentences = vocabulary.OBJECT_SENTENCES[kind_of[o]]
            mention = vocabulary.fill_sentence(sentences[rng.integers(len(sentences))], obj=o)
            documents.append(document(f"Notes on {o}.", [mention]))
    documents = [documents[i] for i in rng.permutation(len(documents))]

    truth = lab_truth.truth_table(documents, facts, k, competitor_docs, paraphrases)
    if not (truth["both_docs"].to_numpy() == k).all():
        bad = int(np.flatnonzero(truth["both_docs"].to_numpy() != k)[0])
        raise SmiError(f"fact {bad}: co-occurrence {truth['both_docs'].iloc[bad]} differs from its stating count")
    truth["k"] = k
    for arm, column in zip(ARMS, ("competitor_level", "subject_level", "object_level")):
        truth[column] = [LEVEL_NAMES[level] for level in levels[arm]]
    truth["competitor_docs"] = competitor_docs
    truth["subject_extra_docs"] = subject_docs
    truth["background_docs"] = [background[o] for o in facts["obj"]]
    truth["competitor"] = competitors
    texts = [" ".join(sentences) for sentences in documents]
    templates = {r.name: list(r.seen) for r in vocabulary.RELATIONS}
    unseen = {r.name: list(r.unseen) for r in vocabulary.RELATIONS}
    extra = {"design": "crossed", "filler_sentences": len(filler), "pools": pools}
    return lab_corpus.LabCorpus(settings, texts, facts[["idx", "subj", "rel", "obj"]], templates, unseen, truth, extra)


def generate(settings, filler: list[str] | None = None):
    """The corpus of ``settings``: :func:`generate_crossed` for :class:`DesignSettings`, else the power-law design.

    Parameters
    ----------
    settings : DesignSettings or smi.lab.settings.CorpusSettings
        The design's settings.
    filler : list of str or None
        Filler sentences.

    Returns
    -------
    smi.lab.corpus.LabCorpus
        The corpus.
    """
    if isinstance(settings, DesignSettings):
        return generate_crossed(settings, filler)
    return power.generate_corpus(settings, filler)
