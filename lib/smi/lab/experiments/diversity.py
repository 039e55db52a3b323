r"""Phrasing diversity and extraction: is a fact stated in one phrasing usable in another?

Each relation has nine phrasings, pairs :math:`(a, b)` of its phrasing tokens with :math:`a, b \in
\{0, 1, 2\}`; eight are used in training and :math:`(2, 2)` never is (its two tokens are trained, in
other pairs). Every fact is stated ``statements`` (:math:`k = 8`) times:

* a **plain** person's fact in one phrasing drawn from the eight, :math:`k` times;
* a **diverse** person's fact once in each of the eight phrasings.

People come in two groups of the same size. The **test** people are always plain; of the
**other** people, a share (``shares``: 0, 50, 100 %) is diverse and the rest plain. The share is the
one thing that differs between a seed's corpora: the people, their values and the test people's
phrasings are the same. Each test fact is probed (:func:`smi.lab.experiments.kit.score_values`,
rank 1 over the relation's values) in three phrasings:

* ``used``: the phrasing it was stated in;
* ``other``: another of the eight, one used in training only for other people's facts;
* ``never``: :math:`(2, 2)`, used for nobody.

Chance per fact is the **shuffled-subject control**: the ``other`` prompt scored against the value
of another test person of the same relation (a derangement). The analysis (:func:`summarise`), over
seeds: accuracy per probe and share; the gap ``used − other`` per share; ``other − chance`` with
no diverse people (the anchor: no extraction without diversity); and the gap's fall from 0 % to
100 % (the anchor: diversity for some people makes the knowledge of the rest extractable).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smi.errors import ParameterValueError, check_scalar
from smi.lab.experiments import kit

#: The phrasing grid: token a and token 3 + b of the relation, for (a, b) in 3 × 3; (2, 2) is never used.
GRID = [(a, 3 + b) for a in range(3) for b in range(3)]
USED = GRID[:-1]
NEVER = GRID[-1]
PROBES = ("used", "other", "never")
#: How close to chance ``other`` must be with no diverse people for the anchor's claim to hold.
CHANCE_MARGIN = 0.05


@dataclass(frozen=True)
class DiversitySettings:
    """The diversity experiment's knobs (module docstring)."""

    seed: int = 0
    seeds: int = 3
    shares: tuple[float, ...] = (0.0, 0.5, 1.0)
    people: int = 200
    attributes: int = 4
    values: int = 32
    syllables: int = 64
    statements: int = 8
    epochs: int = 20
    hidden: int = 48
    layers: int = 2
    statements_per_row: int = 16
    batch_rows: int = 16
    learning_rate: float = 1e-2
    warmup_share: float = 0.05

    def __post_init__(self) -> None:
        kit.check_common(self)
        if len(self.shares) < 2 or 0.0 not in self.shares:
            raise ParameterValueError("shares", f"needs 0 and at least one other share (got {self.shares})")
        for share in self.shares:
            check_scalar(share, "shares", minimum=0, maximum=1)
        check_scalar(self.people, "people", "integer", minimum=2, maximum=self.syllables**2 // 2)
        if self.statements != len(USED):
            raise ParameterValueError(
                "statements", f"must be {len(USED)}, one per used phrasing (got {self.statements})"
            )
        check_scalar(self.epochs, "epochs", "integer", minimum=1, maximum=500)
        check_scalar(
            self.statements_per_row, "statements_per_row", "integer", minimum=1, maximum=kit.MAX_ROW_TOKENS // 5
        )
        check_scalar(self.batch_rows, "batch_rows", "integer", minimum=1, maximum=1024)
        check_scalar(self.warmup_share, "warmup_share", minimum=0, below=1)

    def world(self) -> kit.World:
        """The vocabulary: six phrasing tokens per relation (the grid's rows and columns)."""
        return kit.World(self.syllables, self.attributes, self.values, phrasing_tokens=6)


def default_settings(seed: int = 0) -> DiversitySettings:
    """The full-size experiment (``make experiments``) for ``seed``."""
    return DiversitySettings(seed=seed)


def quick_settings(seed: int = 0) -> DiversitySettings:
    """A reduced run for the tests: two shares, fewer people and epochs, a narrower model."""
    return DiversitySettings(seed=seed, seeds=2, shares=(0.0, 1.0), people=40, epochs=6, hidden=32)


def jobs(settings: DiversitySettings) -> list[dict]:
    """One job per (seed, share)."""
    return [{"seed": settings.seed + i, "share": share} for i in range(settings.seeds) for share in settings.shares]


def draw_world(seed: int, settings: DiversitySettings) -> dict:
    """What a seed fixes for every share: the people of both groups, their values, the plain phrasings,
    the order in which other people become diverse, and the test probes' phrasings and control."""
    rng = np.random.default_rng([seed, 7])
    world = settings.world()
    n, a = settings.people, settings.attributes
    people = world.draw_people(2 * n, rng)
    return {
        "test": people[:n],
        "other": people[n:],
        "values": rng.integers(0, settings.values, size=(2 * n, a)),
        "plain": rng.integers(0, len(USED), size=(2 * n, a)),
        "diverse_order": rng.permutation(n),
        "other_shift": rng.integers(1, len(USED), size=(n, a)),
        "control": kit.derangement(n, rng),
    }


def corpus(drawn: dict, share: float, settings: DiversitySettings) -> np.ndarray:
    """The statements of one corpus: every fact :math:`k` times, plain or diverse (module docstring)."""
    world = settings.world()
    n, a = settings.people, settings.attributes
    diverse = np.zeros(2 * n, dtype=bool)
    diverse[n + drawn["diverse_order"][: round(share * n)]] = True
    people = np.concatenate([drawn["test"], drawn["other"]])
    person, relation, phrasing, value = [], [], [], []
    for index in range(2 * n):
        for rel in range(a):
            chosen = USED if diverse[index] else [USED[drawn["plain"][index, rel]]] * settings.statements
            person += [people[index]] * len(chosen)
            relation += [rel] * len(chosen)
            phrasing += chosen
            value += [drawn["values"][index, rel]] * len(chosen)
    return kit.statements(world, np.array(person), np.array(relation), np.array(phrasing), np.array(value))


def probes(drawn: dict, settings: DiversitySettings) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The test facts' prompts (statements without the value) and relations, per probe kind."""
    world = settings.world()
    n, a = settings.people, settings.attributes
    person = np.repeat(drawn["test"], a)
    relation = np.tile(np.arange(a), n)
    used = drawn["plain"][:n].reshape(-1)
    other = (used + drawn["other_shift"].reshape(-1)) % len(USED)
    kinds = {"used": [USED[i] for i in used], "other": [USED[i] for i in other], "never": [NEVER] * len(used)}
    zeros = np.zeros(len(person), dtype=int)
    return {
        kind: (kit.statements(world, person, relation, np.array(phrasing), zeros)[:, :-1], relation)
        for kind, phrasing in kinds.items()
    }


def run_job(job: dict, settings: DiversitySettings) -> list[dict]:
    """Train on one (seed, share) corpus and probe the test facts: one row per probe kind."""
    drawn = draw_world(job["seed"], settings)
    world = settings.world()
    tokens = corpus(drawn, job["share"], settings)
    network = kit.build_network(world, settings.hidden, settings.layers, job["seed"], job.get("device", "cpu"))
    rng = np.random.default_rng([job["seed"], 11])
    trained = kit.train_epochs(
        network,
        tokens,
        settings.epochs,
        settings.statements_per_row,
        settings.batch_rows,
        settings.learning_rate,
        settings.warmup_share,
        rng,
    )
    n = settings.people
    truth = drawn["values"][:n].reshape(-1)
    control = drawn["values"][:n][drawn["control"]].reshape(-1)
    rows = []
    for kind, (prompts, relation) in probes(drawn, settings).items():
        scores = kit.score_values(network, world, prompts, relation)
        guess = scores.argmax(axis=1)
        rows.append(
            {
                **job,
                "probe": kind,
                "facts": len(truth),
                "accuracy": float((guess == truth).mean()),
                "chance": float((guess == control).mean()),
                "log_q": float(scores[np.arange(len(truth)), truth].mean()),
                **trained,
            }
        )
    return rows


def tidy(rows: list[dict]) -> pd.DataFrame:
    """The table of every (seed, share, probe)."""
    return pd.DataFrame(rows).sort_values(["seed", "share", "probe"]).reset_index(drop=True)


def summarise(table: pd.DataFrame) -> dict:
    """Accuracy per probe and share, the gap and the control, with intervals over seeds; the verdicts."""
    wide = table.pivot_table(index=["seed", "share"], columns="probe", values=["accuracy", "chance"])
    per = pd.DataFrame(
        {
            "used": wide[("accuracy", "used")],
            "other": wide[("accuracy", "other")],
            "never": wide[("accuracy", "never")],
            "chance": wide[("chance", "other")],
        }
    ).reset_index()
    per["gap"] = per["used"] - per["other"]
    per["other_minus_chance"] = per["other"] - per["chance"]
    shares = sorted(per["share"].unique())
    by_share = {
        f"{share:g}": {
            column: kit.interval_entry(per.loc[per["share"] == share, column])
            for column in ("used", "other", "never", "chance", "gap", "other_minus_chance")
        }
        for share in shares
    }
    first = per[per["share"] == shares[0]].set_index("seed")
    last = per[per["share"] == shares[-1]].set_index("seed")
    shrink = kit.interval_entry((first["gap"] - last["gap"]).to_numpy())
    no_diversity = by_share[f"{shares[0]:g}"]["other_minus_chance"]
    summary = {"shares": by_share, "gap_shrink": shrink}
    summary["verdicts"] = {
        "no_extraction_without_diversity": kit.verdict_band(no_diversity, (-CHANCE_MARGIN, CHANCE_MARGIN)),
        "gap_shrinks": kit.verdict_band(shrink, (0.0, math.inf)),
    }
    return summary


#: Each verdict of :func:`summarise`: what it claims, and the summary entry it rests on.
CLAIMS = {
    "no_extraction_without_diversity": (
        f"with no diverse people, accuracy in phrasings used only for others is within {CHANCE_MARGIN} of "
        "shuffled-subject chance (other − chance)",
        ("shares", "0", "other_minus_chance"),
    ),
    "gap_shrinks": ("the gap used − other shrinks from the lowest to the highest share", ("gap_shrink",)),
}


def share_table(summary: dict) -> pd.DataFrame:
    """One row per share of diverse other people: accuracy per probe, chance and the gap, mean [low, high]."""
    columns = {
        "used": "used phrasing",
        "other": "others' phrasing",
        "never": "unused phrasing",
        "chance": "shuffled-subject chance",
        "gap": "gap used − others'",
    }
    return pd.DataFrame(
        [
            {"diverse share of the others": f"{float(share):.0%}"}
            | {label: kit.interval_text(entry[key]) for key, label in columns.items()}
            for share, entry in summary["shares"].items()
        ]
    )
