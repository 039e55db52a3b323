r"""The probing protocol for one fact: its settings, prompts, per-continuation seeds and scored record.

Everything in this module decides a probe's results, so :func:`smi.probing.run.protocol_code_sha256`
hashes all of its source: an edit here invalidates partial files written before it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smi.choices import MATCH_RULES
from smi.errors import ParameterValueError, SmiError, check_one_of, check_scalar
from smi.records import COUNT_FIELDS

#: The subject's placeholder in a prompt template.
PLACEHOLDER = "[S]"


#: Bounds of a probe's size knobs: the continuations per template and the tokens of each
#: (the paper uses 20 and 32), so that a run stays within memory and finishes.
MAX_SAMPLES = 1000
MAX_NEW_TOKENS = 1024


@dataclass(frozen=True)
class ProbeSettings:
    """Everything that decides the answers; a resumed run must use the same values.

    Parameters
    ----------
    samples : int
        Continuations sampled per template (:math:`K`), at least 1.
    temperature : float
        Sampling temperature :math:`\tau`, positive and finite (ignored when ``greedy``).
    max_new_tokens : int
        Tokens generated per continuation, at least 1.
    seed : int
        Seed of every continuation's own generator (:func:`continuation_seed`).
    greedy : bool
        Decode deterministically (argmax): one answer per template, so ``samples`` is taken as 1.
    match : {"paper", "word"}
        How an answer is scored (:func:`answer_contains_object`).
    ignore_case : bool
        Compare case-folded answer and object.

    Raises
    ------
    SmiError
        When a value is out of range or ``match`` is not a known rule.
    """

    samples: int = 20
    temperature: float = 0.7
    max_new_tokens: int = 32
    seed: int = 0
    greedy: bool = False
    match: str = "paper"
    ignore_case: bool = False

    def __post_init__(self) -> None:
        for name, most in (("samples", MAX_SAMPLES), ("max_new_tokens", MAX_NEW_TOKENS)):
            check_scalar(getattr(self, name), name, "integer", minimum=1, maximum=most)
        if not self.greedy and not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise ParameterValueError(
                "temperature",
                f"must be a positive finite number (got {self.temperature}); greedy decoding takes the argmax",
            )
        check_one_of(self.match, MATCH_RULES, "match rule", "rules")

    @property
    def answers_per_template(self) -> int:
        """Continuations drawn per prompt: ``samples``, or 1 when greedy."""
        return 1 if self.greedy else self.samples


def fill_template(template: str, subject: str) -> str:
    """The prompt for one fact: ``template`` with every ``[S]`` replaced by ``subject``.

    Parameters
    ----------
    template : str
        A prompt template holding :data:`PLACEHOLDER` at least once.
    subject : str
        The fact's subject.

    Returns
    -------
    str
        The filled prompt.

    Raises
    ------
    SmiError
        When ``template`` has no placeholder.
    """
    if PLACEHOLDER not in template:
        raise SmiError(f"template {template!r} has no {PLACEHOLDER}")
    return template.replace(PLACEHOLDER, subject)


def answer_contains_object(answer: str, obj: str, match: str = "paper", ignore_case: bool = False) -> bool:
    """Whether a generated ``answer`` names the object ``obj``.

    Parameters
    ----------
    answer : str
        A generated continuation (without its prompt).
    obj : str
        The fact's object.
    match : {"paper", "word"}
        ``"paper"`` is the paper's scoring rule, ``obj in answer``, so ``"Rome"`` counts inside
        ``"Romeo"``; ``"word"`` requires that no letter, digit or underscore touches the
        object on either side.
    ignore_case : bool
        Compare case-folded text.

    Returns
    -------
    bool
        True when the answer contains the object under the rule.

    Raises
    ------
    SmiError
        When ``match`` is not a known rule.
    """
    check_one_of(match, MATCH_RULES, "match rule", "rules")
    if ignore_case:
        answer, obj = answer.casefold(), obj.casefold()
    if match == "paper":
        return obj in answer
    return re.search(rf"(?<!\w){re.escape(obj)}(?!\w)", answer) is not None


def accuracy(answers: Sequence[str], obj: str, match: str = "paper", ignore_case: bool = False) -> float:
    r"""Share of ``answers`` that contain ``obj``.

    Parameters
    ----------
    answers : sequence of str
        The continuations to score, at least one.
    obj : str
        The fact's object.
    match, ignore_case
        As for :func:`answer_contains_object`.

    Returns
    -------
    float
        The accuracy, in [0, 1].

    Raises
    ------
    SmiError
        When ``answers`` is empty or ``match`` is not a known rule.

    Notes
    -----
    .. math:: \mathrm{acc} = \frac{1}{n} \sum_{i=1}^{n} \mathbb{1}[o \text{ occurs in } a_i]
    """
    if not answers:
        raise SmiError(f"no answers to score for object {obj!r}")
    hits = sum(answer_contains_object(answer, obj, match, ignore_case) for answer in answers)
    return hits / len(answers)


def continuation_seed(seed: int, idx: object, template_number: int, sample_number: int) -> int:
    """A 63-bit seed for one continuation, a hash of (seed, fact idx, template, sample).

    Parameters
    ----------
    seed : int
        The run's seed (:attr:`ProbeSettings.seed`).
    idx : object
        The fact's idx.
    template_number, sample_number : int
        Which template of the relation, and which sample of that template.

    Returns
    -------
    int
        A non-negative integer below :math:`2^{63}` (BLAKE2b of the four values).
    """
    key = f"{seed}/{idx}/{template_number}/{sample_number}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


def fact_prompts(fact: dict, templates: list[str], settings: ProbeSettings) -> tuple[list[str], list[int]]:
    """Prompts and seeds for every (template, sample) of one fact, template-major.

    Parameters
    ----------
    fact : dict
        A fact with at least ``idx`` and ``subj``.
    templates : list of str
        The templates of the fact's relation.
    settings : ProbeSettings
        The run's settings (seed, answers per template).

    Returns
    -------
    prompts : list of str
        Each template's prompt, repeated once per answer of that template.
    seeds : list of int
        The :func:`continuation_seed` of each prompt.

    Raises
    ------
    SmiError
        When a template has no placeholder.
    """
    prompts, seeds = [], []
    for template_number, template in enumerate(templates):
        prompt = fill_template(template, fact["subj"])
        for sample_number in range(settings.answers_per_template):
            prompts.append(prompt)
            seeds.append(continuation_seed(settings.seed, fact["idx"], template_number, sample_number))
    return prompts, seeds


def fact_record(
    fact: dict, templates: list[str], answers: list[str], settings: ProbeSettings, keep_answers: bool
) -> dict:
    """The output record of one fact: release fields, ``acc``, ``n_answers`` and optionally ``answers``.

    Parameters
    ----------
    fact : dict
        The fact: ``idx, subj, rel, obj``, optionally ``qus`` and the ``time_*`` counts.
    templates : list of str
        The templates of the fact's relation (the first one fills ``qus`` when the fact has none).
    answers : list of str
        Template-major continuations (all samples of template 0, then template 1, …).
    settings : ProbeSettings
        The run's settings (match rule, case, answers per template).
    keep_answers : bool
        Store the answers, one list per template in the templates' order.

    Returns
    -------
    dict
        ``idx, subj, rel, obj, qus``, any counts, ``acc``, ``n_answers`` and, when kept, ``answers``.

    Raises
    ------
    SmiError
        When ``answers`` is empty.
    """
    record = fact_fields(fact, templates)
    record["acc"] = accuracy(answers, fact["obj"], settings.match, settings.ignore_case)
    record["n_answers"] = len(answers)
    if keep_answers:
        per = settings.answers_per_template
        record["answers"] = [answers[start : start + per] for start in range(0, len(answers), per)]
    return record


def fact_fields(fact: dict, templates: list[str]) -> dict:
    """The fields a fact's record takes from the fact: ``idx, subj, rel, obj, qus`` and any ``time_*`` counts.

    Parameters
    ----------
    fact : dict
        The fact, as :func:`fact_record` receives it.
    templates : list of str
        The templates of its relation (the first fills ``qus`` when the fact has none).

    Returns
    -------
    dict
        The fields, as plain Python values.
    """
    fields = {field: _plain(fact[field]) for field in ("idx", "subj", "rel", "obj")}
    fields["qus"] = fact.get("qus") if isinstance(fact.get("qus"), str) else fill_template(templates[0], fact["subj"])
    for field in COUNT_FIELDS:
        if field in fact and fact[field] is not None and not pd.isna(fact[field]):
            fields[field] = int(fact[field])
    return fields


def record_problem(
    record: object, fact: dict, templates: list[str], settings: ProbeSettings, keep_answers: bool
) -> str:
    """Why ``record`` is not a record :func:`fact_record` could have written for ``fact``; empty when it is.

    The reader of a saved record (a resumed run's partial file): every field of the fact
    equal to :func:`fact_fields`, ``n_answers`` the run's number of answers, ``acc`` a finite
    number in [0, 1] that is a share of ``n_answers``, no other field, and with
    ``keep_answers`` the answers themselves, whose accuracy must equal ``acc``.

    Parameters
    ----------
    record : object
        What was read.
    fact : dict
        The fact being probed with the record's ``idx``.
    templates : list of str
        The templates of its relation.
    settings : ProbeSettings
        The run's settings.
    keep_answers : bool
        Whether records keep their answers.

    Returns
    -------
    str
        The first problem found, or "".
    """
    if not isinstance(record, dict):
        return "not a JSON object"
    expected = fact_fields(fact, templates)
    allowed = set(expected) | {"acc", "n_answers"} | ({"answers"} if keep_answers else set())
    missing = sorted(set(allowed) - set(record))
    if missing:
        return f"no field {missing[0]!r}"
    extra = sorted(set(record) - allowed)
    if extra:
        return f"unexpected field {extra[0]!r}"
    for field, value in expected.items():
        if record[field] != value or type(record[field]) is not type(value):
            return f"field {field!r} is {record[field]!r}, not the fact's {value!r}"
    count = len(templates) * settings.answers_per_template
    n_answers = record["n_answers"]
    if type(n_answers) is not int or n_answers != count:
        return f"field 'n_answers' must be {count} (got {n_answers!r})"
    acc = record["acc"]
    if type(acc) not in (int, float) or not (math.isfinite(acc) and 0 <= acc <= 1):
        return f"field 'acc' must be a finite number in [0, 1] (got {acc!r})"
    if abs(acc * count - round(acc * count)) > 1e-6:
        return f"field 'acc' {acc!r} is not a share of {count} answers"
    if keep_answers:
        answers = record["answers"]
        per = settings.answers_per_template
        shaped = (
            isinstance(answers, list)
            and len(answers) == len(templates)
            and all(isinstance(group, list) and len(group) == per for group in answers)
            and all(isinstance(answer, str) for group in answers for answer in group)
        )
        if not shaped:
            return f"field 'answers' must be {len(templates)} lists of {per} strings"
        flat = [answer for group in answers for answer in group]
        if accuracy(flat, fact["obj"], settings.match, settings.ignore_case) != acc:
            return "field 'acc' differs from the accuracy of its answers"
    return ""


def _plain(value):
    """numpy scalars as plain Python values, for JSON."""
    return value.item() if isinstance(value, np.generic) else value
