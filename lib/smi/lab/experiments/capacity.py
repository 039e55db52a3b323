r"""Knowledge capacity: how many bits of facts a model of a given size can store.

People are given ``attributes`` attributes, each value drawn uniformly from ``values`` tokens
(no popularity skew), so each fact carries :math:`\log_2 D` bits with :math:`D` = ``values``. Each
fact is stated ``exposures`` times (one statement per epoch, in a new order each epoch). For each
width in ``widths`` (one layer each), the number of people is set to each of ``multiples`` times
the point where the facts would hold 2 bits per non-embedding parameter of that width,

.. math:: N = \mathrm{round}\!\left(m \cdot \frac{2 P_{\text{non-emb}}}{A \log_2 D}\right).

After training, the bits stored are

.. math:: B = \sum_f \max\bigl(0,\ \log_2 D + \log_2 q(o_f \mid s_f, r_f)\bigr),

with :math:`q` the model's distribution over the relation's :math:`D` values
(:func:`smi.lab.experiments.kit.score_values`). A model that knows nothing scores about 0 on
average, but the floor at 0 turns noise into a positive sum; the **shuffled-subject control**
:math:`B_0` is the same sum scored against the value of another person (a derangement within each
attribute), and the net bits :math:`B - B_0` are what the analysis uses.

Analysis (:func:`summarise`), over seeds: the elasticity of net bits in people between the two
largest numbers of people, per width (about 1 for a lookup that grows with the data, about 0 once
saturated); the net bits at the largest number of people per non-embedding (and total) parameter;
and the slope of :math:`\log B` against :math:`\log P_{\text{non-emb}}` across widths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smi.errors import ParameterValueError, check_scalar
from smi.lab.experiments import kit

#: The anchor: bits per parameter at saturation after about 100 exposures (Allen-Zhu & Li, Physics of
#: Language Models 3.3, about 1; about 2 after about 1,000), and the band this experiment tests.
CAPACITY_BAND = (0.5, 2.5)
SLOPE_BAND = (0.75, 1.25)


@dataclass(frozen=True)
class CapacitySettings:
    """The capacity experiment's knobs (module docstring). ``exposures`` 1,000 is the CUDA variant."""

    seed: int = 0
    seeds: int = 3
    widths: tuple[int, ...] = (8, 12, 20)
    layers: int = 1
    multiples: tuple[float, ...] = (0.3, 0.6, 1.25, 2.5, 5.0, 10.0)
    attributes: int = 4
    values: int = 128
    syllables: int = 64
    exposures: int = 100
    statements_per_row: int = 16
    batch_rows: int = 64
    steps_per_epoch: int = 8
    learning_rate: float = 1e-2
    warmup_share: float = 0.05

    def __post_init__(self) -> None:
        if len(self.widths) < 1 or len(self.multiples) < 2:
            raise ParameterValueError("widths", "needs at least one width and two multiples")
        kit.check_common(self, self.widths, "widths")
        for multiple in self.multiples:
            check_scalar(multiple, "multiples", above=0, maximum=20)
        check_scalar(self.exposures, "exposures", "integer", minimum=1, maximum=2000)
        check_scalar(
            self.statements_per_row, "statements_per_row", "integer", minimum=1, maximum=kit.MAX_ROW_TOKENS // 4
        )
        check_scalar(self.batch_rows, "batch_rows", "integer", minimum=1, maximum=1024)
        check_scalar(self.steps_per_epoch, "steps_per_epoch", "integer", minimum=1, maximum=1024)
        check_scalar(self.warmup_share, "warmup_share", minimum=0, below=1)

    def world(self) -> kit.World:
        """The vocabulary: one phrasing token per attribute."""
        return kit.World(self.syllables, self.attributes, self.values)


def default_settings(seed: int = 0) -> CapacitySettings:
    """The full-size experiment (``make experiments``) for ``seed``."""
    return CapacitySettings(seed=seed)


def quick_settings(seed: int = 0) -> CapacitySettings:
    """A reduced run for the tests: two widths, three multiples, fewer exposures."""
    return CapacitySettings(seed=seed, seeds=2, widths=(8, 16), multiples=(0.5, 2.0, 4.0), exposures=20)


def jobs(settings: CapacitySettings) -> list[dict]:
    """One job per (seed, width, multiple), largest first (the longest jobs start first)."""
    return sorted(
        (
            {"seed": settings.seed + i, "hidden": width, "multiple": multiple}
            for i in range(settings.seeds)
            for width in settings.widths
            for multiple in settings.multiples
        ),
        key=lambda job: -job["hidden"] * job["multiple"],
    )


def people_for(non_embedding: int, multiple: float, settings: CapacitySettings) -> int:
    """People whose facts hold ``multiple`` × 2 bits per non-embedding parameter (module docstring)."""
    bits_per_person = settings.attributes * math.log2(settings.values)
    return max(2, round(multiple * 2 * non_embedding / bits_per_person))


def run_job(job: dict, settings: CapacitySettings) -> list[dict]:
    """Train one (seed, width, multiple) and measure its stored bits: one row of the tidy table."""
    world = settings.world()
    network = kit.build_network(world, job["hidden"], settings.layers, job["seed"], job.get("device", "cpu"))
    non_embedding, total = kit.parameter_counts(network)
    people_count = people_for(non_embedding, job["multiple"], settings)
    rng = np.random.default_rng([job["seed"], job["hidden"], people_count])
    people = world.draw_people(people_count, rng)
    values = rng.integers(0, settings.values, size=(people_count, settings.attributes))
    person = np.repeat(people, settings.attributes)
    relation = np.tile(np.arange(settings.attributes), people_count)
    value = values.reshape(-1)
    tokens = kit.statements(world, person, relation, np.zeros((len(person), 1), int), value)
    batch = kit.batch_rows_for(len(tokens), settings.statements_per_row, settings.batch_rows, settings.steps_per_epoch)
    trained = kit.train_epochs(
        network,
        tokens,
        settings.exposures,
        settings.statements_per_row,
        batch,
        settings.learning_rate,
        settings.warmup_share,
        rng,
    )
    scores = kit.score_values(network, world, tokens[:, :-1], relation) / math.log(2)
    shuffled = kit.derangement(people_count, rng)
    control_value = values[shuffled].reshape(-1)
    rows = np.arange(len(value))
    log2_d = math.log2(settings.values)
    own = log2_d + scores[rows, value]
    control = log2_d + scores[rows, control_value]
    return [
        {
            **job,
            "layers": settings.layers,
            "people": people_count,
            "facts": len(value),
            "non_embedding": non_embedding,
            "parameters": total,
            "bits": float(np.clip(own, 0, None).sum()),
            "control_bits": float(np.clip(control, 0, None).sum()),
            "unclipped_bits": float(own.sum()),
            "data_bits": float(len(value) * log2_d),
            "accuracy": float((scores.argmax(axis=1) == value).mean()),
            "batch_rows": batch,
            **trained,
        }
    ]


def tidy(rows: list[dict]) -> pd.DataFrame:
    """The table of every job, with the net bits and the bits per parameter."""
    table = pd.DataFrame(rows).sort_values(["seed", "hidden", "multiple"]).reset_index(drop=True)
    table["net_bits"] = table["bits"] - table["control_bits"]
    table["bits_per_non_embedding"] = table["net_bits"] / table["non_embedding"]
    table["bits_per_parameter"] = table["net_bits"] / table["parameters"]
    return table


def summarise(table: pd.DataFrame) -> dict:
    """Per width and overall: saturation elasticity, bits per parameter at saturation, the log-log slope; verdicts."""
    top_two = sorted(table["multiple"].unique())[-2:]
    per_width, per_seed = [], []
    for (seed, hidden), group in table.groupby(["seed", "hidden"]):
        group = group.set_index("multiple")
        low, high = group.loc[top_two[0]], group.loc[top_two[1]]
        ratio = high["net_bits"] / low["net_bits"] if low["net_bits"] > 0 and high["net_bits"] > 0 else math.nan
        elasticity = math.log(ratio) / math.log(high["people"] / low["people"]) if ratio == ratio else math.nan
        per_width.append(
            {
                "seed": seed,
                "hidden": hidden,
                "non_embedding": high["non_embedding"],
                "parameters": high["parameters"],
                "saturated_bits": high["net_bits"],
                "elasticity": elasticity,
            }
        )
    widths = pd.DataFrame(per_width)
    widths["per_non_embedding"] = widths["saturated_bits"] / widths["non_embedding"]
    widths["per_parameter"] = widths["saturated_bits"] / widths["parameters"]
    for seed, group in widths.groupby("seed"):
        positive = group[group["saturated_bits"] > 0]
        slope = (
            float(np.polyfit(np.log(positive["non_embedding"]), np.log(positive["saturated_bits"]), 1)[0])
            if len(positive) >= 2
            else math.nan
        )
        per_seed.append(
            {
                "seed": seed,
                "per_non_embedding": group["per_non_embedding"].mean(),
                "per_parameter": group["per_parameter"].mean(),
                "slope": slope,
                "elasticity": group["elasticity"].max(),
            }
        )
    seeds = pd.DataFrame(per_seed)
    summary = {
        "widths": [
            {
                "hidden": int(hidden),
                "non_embedding": int(group["non_embedding"].iloc[0]),
                "parameters": int(group["parameters"].iloc[0]),
                "saturated_bits": kit.interval_entry(group["saturated_bits"]),
                "per_non_embedding": kit.interval_entry(group["per_non_embedding"]),
                "elasticity": kit.interval_entry(group["elasticity"]),
            }
            for hidden, group in widths.groupby("hidden")
        ],
        "per_non_embedding": kit.interval_entry(seeds["per_non_embedding"]),
        "per_parameter": kit.interval_entry(seeds["per_parameter"]),
        "slope": kit.interval_entry(seeds["slope"]),
        "largest_elasticity": kit.interval_entry(seeds["elasticity"]),
    }
    summary["verdicts"] = {
        "saturates": kit.verdict_band(summary["largest_elasticity"], (-math.inf, 0.5)),
        "capacity_in_band": kit.verdict_band(summary["per_non_embedding"], CAPACITY_BAND),
        "slope_in_band": kit.verdict_band(summary["slope"], SLOPE_BAND),
    }
    return summary


#: Each verdict of :func:`summarise`: what it claims, and the summary entry it rests on.
CLAIMS = {
    "saturates": (
        "stored bits stop growing with people: elasticity at the most people below 0.5",
        ("largest_elasticity",),
    ),
    "capacity_in_band": (
        f"net bits per non-embedding parameter at the most people in [{CAPACITY_BAND[0]}, {CAPACITY_BAND[1]}]",
        ("per_non_embedding",),
    ),
    "slope_in_band": (
        f"log-log slope of those bits against non-embedding parameters in [{SLOPE_BAND[0]}, {SLOPE_BAND[1]}]",
        ("slope",),
    ),
}


def width_table(summary: dict) -> pd.DataFrame:
    """One row per width: parameters, net bits at the most people, bits per non-embedding parameter and
    elasticity, each as mean [low, high] over seeds."""
    return pd.DataFrame(
        [
            {
                "width": entry["hidden"],
                "non-embedding parameters": entry["non_embedding"],
                "all parameters": entry["parameters"],
                "net bits at the most people": kit.interval_text(entry["saturated_bits"], "{:,.0f}"),
                "bits per non-emb. parameter": kit.interval_text(entry["per_non_embedding"]),
                "elasticity": kit.interval_text(entry["elasticity"]),
            }
            for entry in summary["widths"]
        ]
    )
