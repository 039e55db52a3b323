"""The lab's word material: relations, their prompts, object pools and the names of entities.

Everything here is fixed data (and :func:`fill_sentence`, which puts names into its prompts and
sentences); the corpus generators (:mod:`smi.lab.design`, :mod:`smi.lab.power`) draw from it
with a seeded random generator. Relation names follow the release's ``multi_templates.json``
(``born``, ``die``, ``citizen``, ``occupation``, ``work``, ``headquarter``).

A *prompt* ends where the object goes (``"[S] was born in"``); a corpus sentence
stating a fact is a prompt followed by the object and a full stop. Each relation
has prompts that the corpus uses (``seen``) and prompts that never occur in the
corpus (``unseen``): probing with both shows whether a model answers a question
it was never asked in training.

Object pools are real words, so that the filler text (sentences of Wikipedia's
vital articles) mentions some of them and substring effects of the paper's
matching rule occur naturally: ``" Niger"`` is found in ``" Nigeria"``,
``" chemist"`` in ``" chemistry"``, ``" York"`` in ``" New York"``, and a
person called Florence Dravik carries the city Florence in her name.

Every name and object consists of letters and single spaces only, and every
sentence ends with a full stop, so no name can straddle two sentences (see
:func:`smi.lab.truth.names_in_sentence`).
"""

from __future__ import annotations

from dataclasses import dataclass

PLACEHOLDER_SUBJECT = "[S]"
PLACEHOLDER_OBJECT = "[O]"


def fill_sentence(template: str, subject: str = "", obj: str = "") -> str:
    """``template`` with its placeholders :data:`PLACEHOLDER_SUBJECT` and :data:`PLACEHOLDER_OBJECT` replaced.

    Parameters
    ----------
    template : str
        A prompt or sentence of this module.
    subject, obj : str
        What replaces each placeholder.

    Returns
    -------
    str
        The sentence.
    """
    return template.replace(PLACEHOLDER_SUBJECT, subject).replace(PLACEHOLDER_OBJECT, obj)


@dataclass(frozen=True)
class Relation:
    """One relation: whose it is, where its objects come from, and how it is phrased.

    ``seen`` prompts state the fact in the corpus (prompt + object + "."),
    ``unseen`` prompts are only asked by the probe.
    """

    name: str
    subject_kind: str
    object_kind: str
    seen: tuple[str, ...]
    unseen: tuple[str, ...]

    @property
    def prompts(self) -> tuple[str, ...]:
        """Every prompt the probe asks: the seen ones, then the unseen ones."""
        return self.seen + self.unseen


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "born",
        "person",
        "city",
        seen=("[S] was born in", "The birthplace of [S] is", "[S] came into the world in"),
        unseen=("[S] is a native of",),
    ),
    Relation(
        "die",
        "person",
        "city",
        seen=("[S] died in", "[S] passed away in", "The place where [S] died is"),
        unseen=("The death of [S] took place in",),
    ),
    Relation(
        "citizen",
        "person",
        "country",
        seen=("[S] is a citizen of", "[S] holds the citizenship of", "The country of citizenship of [S] is"),
        unseen=("[S] has a passport from",),
    ),
    Relation(
        "occupation",
        "person",
        "occupation",
        seen=("[S] works as a", "The occupation of [S] is", "By profession, [S] is a"),
        unseen=("[S] earns a living as a",),
    ),
    Relation(
        "work",
        "person",
        "field",
        seen=("[S] works in the field of", "The research of [S] is about", "[S] is an expert in"),
        unseen=("[S] specializes in",),
    ),
    Relation(
        "headquarter",
        "organisation",
        "city",
        seen=("The headquarters of [S] is in", "[S] has its main office in", "[S] is based in"),
        unseen=("[S] runs its business from",),
    ),
)

#: Objects by kind, most popular first within a relation only after the corpus shuffles them.
OBJECTS: dict[str, tuple[str, ...]] = {
    "city": (
        "Paris",
        "Rome",
        "London",
        "Berlin",
        "Madrid",
        "Vienna",
        "Prague",
        "Warsaw",
        "Lisbon",
        "Dublin",
        "Oslo",
        "Athens",
        "Cairo",
        "Lima",
        "Sydney",
        "Toronto",
        "Boston",
        "Florence",
        "Milan",
        "Venice",
        "Geneva",
        "Munich",
        "Kyoto",
        "York",
        "New York",
        "Victoria",
    ),
    "country": (
        "France",
        "Italy",
        "Spain",
        "Germany",
        "Poland",
        "Greece",
        "Egypt",
        "Peru",
        "Chile",
        "Japan",
        "India",
        "Kenya",
        "Canada",
        "Jordan",
        "Georgia",
        "Ireland",
        "Norway",
        "Niger",
        "Nigeria",
        "Mexico",
    ),
    "occupation": (
        "painter",
        "poet",
        "chemist",
        "lawyer",
        "farmer",
        "sculptor",
        "teacher",
        "banker",
        "carpenter",
        "nurse",
        "pilot",
        "baker",
        "tailor",
        "dancer",
        "singer",
        "physician",
    ),
    "field": (
        "physics",
        "chemistry",
        "medicine",
        "history",
        "music",
        "law",
        "mathematics",
        "biology",
        "astronomy",
        "philosophy",
        "economics",
        "geology",
    ),
}

#: Sentences naming an entity without stating any fact; every document about an entity opens with one.
INTRODUCTIONS: dict[str, tuple[str, ...]] = {
    "person": ("About [S].", "Notes on [S].", "A record of [S]."),
    "organisation": ("About [S].", "Notes on [S].", "The register lists [S]."),
}

#: Sentences naming only an object, used when the filler text has none that mentions it (background
#: documents about the object, and co-mentions in documents about a subject).
OBJECT_SENTENCES: dict[str, tuple[str, ...]] = {
    "city": ("Many travellers visit [O].", "The old streets of [O] are busy."),
    "country": ("[O] has a long history.", "Many people live in [O]."),
    "occupation": ("Every town needs a good [O].", "A [O] works hard."),
    "field": ("Students often study [O].", "The study of [O] is old."),
}

#: First names; a few are also objects (a person's name can hold the answer, as in the release).
FIRST_NAMES: tuple[str, ...] = (
    "Anna",
    "Boris",
    "Clara",
    "Daniel",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Irene",
    "Jonas",
    "Karin",
    "Leon",
    "Maria",
    "Nadia",
    "Oskar",
    "Paula",
    "Rosa",
    "Simon",
    "Tomas",
    "Ursula",
    "Viktor",
    "Wanda",
    "Adam",
    "Bianca",
    "Carl",
    "Dora",
    "Emil",
    "Frida",
    "Gustav",
    "Hanna",
    "Ivan",
    "Julia",
    "Kurt",
    "Lena",
    "Marco",
    "Nina",
    "Otto",
    "Petra",
    "Rudolf",
    "Sara",
    "Theo",
    "Vera",
    "Walter",
    "Yara",
    "Zoe",
    "Jordan",
    "Georgia",
    "Florence",
    "Sydney",
    "Victoria",
)

ORGANISATION_KINDS: tuple[str, ...] = (
    "Institute",
    "Group",
    "Company",
    "Foundation",
    "Society",
    "Works",
    "Bank",
    "Press",
)


def relation_by_name() -> dict[str, Relation]:
    """The relations keyed by name.

    Returns
    -------
    dict of str to Relation
        Every relation of :data:`RELATIONS`.
    """
    return {relation.name: relation for relation in RELATIONS}
