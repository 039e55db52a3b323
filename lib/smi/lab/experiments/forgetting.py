r"""Forgetting: what is left of a fact after its last exposure, and whether larger batches keep more.

A model trains in one pass over a stream: each step's batch is ``batch_rows`` rows of
``statements_per_row`` statements drawn at random from a pool of background facts
(``background_people`` people with ``attributes`` uniform attributes of ``values`` values each). The
learning rate rises linearly over ``warmup_steps`` and then stays constant. From step ``start`` on,
**injected facts** (people that are not in the background) enter the batches at known steps:
condition :math:`c = (n, \Delta)` with :math:`n` exposures (``exposures``) spaced :math:`\Delta` steps
apart (``spacings``) holds ``facts_per_condition`` facts, first shown at step ``start + 3c`` (the
conditions are staggered so that few share a step) and then every :math:`\Delta` steps
(:func:`exposure_steps`). An injected statement takes the place of a background statement at a
random position of its batch. Every ``log_every`` steps (before that step's update) the model scores
every injected fact, :math:`\ell_f(t) = \log q(o_f \mid s_f, r_f)` over the relation's values
(:func:`smi.lab.experiments.kit.score_values`), and ``control_facts`` facts of other new people that are
never shown. A condition's **gain** at step :math:`t` is its facts' mean :math:`\ell_f(t)` minus the
control facts' mean at the same step: what the model knows of those facts beyond what it says of any
new person then (a model that grows confident about the background drifts for every new name alike).

Retention after the last exposure :math:`L_c` is read from the conditions with the most exposures
(pooled over their spacings): their gains :math:`g(\tau)` at :math:`\tau = t - L_c > 0`. Per (seed, batch
size), two curves of three parameters, each with an asymptote :math:`c` (a gain can settle above or
below the control's), are fitted by least squares (:func:`fit_retention`):

.. math::

    g = c + a\,(\tau / \tau_1)^{-b} \quad\text{(power law)}, \qquad
    g = c + a\,e^{-\tau / s} \quad\text{(exponential)},

with :math:`\tau_1` the first logged :math:`\tau`, and compared by :math:`\mathrm{AIC} = n \ln(\mathrm{RSS}/n) + 2k`:
:math:`\Delta\mathrm{AIC} = \mathrm{AIC}_{\exp} - \mathrm{AIC}_{\text{pow}}` (positive favours the power
law). The late gain is the mean gain over the last :data:`LATE_WINDOW` steps that every such condition
reaches. The batch size is the one thing that differs between a seed's two runs (the same facts, stream
seed and schedule); its effect is :math:`b_{\text{small}} - b_{\text{large}}` per seed (positive: the
larger batch forgets more slowly), and the late gain of the larger batch minus the smaller's.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smi.errors import ParameterValueError, check_scalar
from smi.lab.experiments import kit

#: Steps between the first exposures of two consecutive conditions.
STAGGER = 3
#: The table keeps every logged point this many steps after a condition's last exposure, then every 100 steps.
DENSE_AFTER = 400
SPARSE_EVERY = 100
#: Late retention: the mean over the last this many steps that every fitted condition reaches.
LATE_WINDOW = 500


@dataclass(frozen=True)
class ForgettingSettings:
    """The forgetting experiment's knobs (module docstring)."""

    seed: int = 0
    seeds: int = 3
    batch_sizes: tuple[int, ...] = (8, 32)
    exposures: tuple[int, ...] = (1, 2, 4, 8)
    spacings: tuple[int, ...] = (10, 100, 1000)
    facts_per_condition: int = 128
    control_facts: int = 256
    background_people: int = 1000
    attributes: int = 4
    values: int = 32
    syllables: int = 64
    hidden: int = 32
    layers: int = 2
    statements_per_row: int = 16
    learning_rate: float = 3e-3
    warmup_steps: int = 200
    start: int = 1000
    retention_steps: int = 2000
    log_every: int = 20

    def __post_init__(self) -> None:
        kit.check_common(self)
        if len(self.batch_sizes) != 2 or self.batch_sizes[0] >= self.batch_sizes[1]:
            raise ParameterValueError("batch_sizes", f"must be two sizes, the smaller first (got {self.batch_sizes})")
        for size in self.batch_sizes:
            check_scalar(size, "batch_sizes", "integer", minimum=1, maximum=512)
        for count in self.exposures:
            check_scalar(count, "exposures", "integer", minimum=1, maximum=64)
        for spacing in self.spacings:
            check_scalar(spacing, "spacings", "integer", minimum=1, maximum=10_000)
        check_scalar(self.facts_per_condition, "facts_per_condition", "integer", minimum=1, maximum=256)
        check_scalar(self.control_facts, "control_facts", "integer", minimum=1, maximum=4096)
        check_scalar(self.background_people, "background_people", "integer", minimum=1, maximum=20_000)
        check_scalar(
            self.statements_per_row, "statements_per_row", "integer", minimum=1, maximum=kit.MAX_ROW_TOKENS // 4
        )
        check_scalar(self.warmup_steps, "warmup_steps", "integer", minimum=1, maximum=100_000)
        check_scalar(self.log_every, "log_every", "integer", minimum=1, maximum=1000)
        check_scalar(self.start, "start", "integer", minimum=self.log_every, maximum=100_000)
        if self.start % self.log_every:
            raise ParameterValueError("start", f"must be a multiple of log_every ({self.log_every}) (got {self.start})")
        check_scalar(self.retention_steps, "retention_steps", "integer", minimum=2 * self.log_every, maximum=100_000)
        people = (
            self.background_people
            + len(self.exposures) * len(self.spacings) * self.facts_per_condition
            + self.control_facts
        )
        if people > self.syllables**2:
            raise ParameterValueError(
                "background_people",
                f"and the injected facts need {people:,} names, more than syllables² = {self.syllables**2:,}",
            )

        busiest = max(Counter(step for steps in exposure_steps(self).values() for step in steps).values())
        if busiest * self.facts_per_condition > self.batch_sizes[0] * self.statements_per_row:
            raise ParameterValueError(
                "facts_per_condition",
                f"× {busiest} conditions shown at one step must fit in a batch of "
                f"{self.batch_sizes[0] * self.statements_per_row} statements (got {self.facts_per_condition})",
            )

    def world(self) -> kit.World:
        """The vocabulary: one phrasing token per attribute."""
        return kit.World(self.syllables, self.attributes, self.values)


def default_settings(seed: int = 0) -> ForgettingSettings:
    """The full-size experiment (``make experiments``) for ``seed``."""
    return ForgettingSettings(seed=seed)


def quick_settings(seed: int = 0) -> ForgettingSettings:
    """A reduced run for the tests: two conditions of each kind, a short stream, a narrow model."""
    return ForgettingSettings(
        seed=seed,
        seeds=2,
        batch_sizes=(4, 16),
        exposures=(1, 4),
        spacings=(5, 20),
        facts_per_condition=8,
        background_people=200,
        hidden=16,
        learning_rate=1e-2,
        warmup_steps=50,
        start=200,
        retention_steps=200,
    )


def conditions(settings: ForgettingSettings) -> list[tuple[int, int]]:
    """The (exposures, spacing) conditions, in the order of their first exposures."""
    return [(count, spacing) for count in settings.exposures for spacing in settings.spacings]


def exposure_steps(settings: ForgettingSettings) -> dict[tuple[int, int], list[int]]:
    """The steps at which each condition's facts are in the batch (module docstring)."""
    return {
        (count, spacing): [settings.start + STAGGER * index + spacing * i for i in range(count)]
        for index, (count, spacing) in enumerate(conditions(settings))
    }


def total_steps(settings: ForgettingSettings) -> int:
    """Steps of a run: every condition's last exposure followed by at least ``retention_steps`` steps."""
    last = max(steps[-1] for steps in exposure_steps(settings).values())
    return last + settings.retention_steps + 1


def jobs(settings: ForgettingSettings) -> list[dict]:
    """One job per (seed, batch size), the larger batches first (the longest jobs start first)."""
    return [
        {"seed": settings.seed + i, "batch_rows": size}
        for size in sorted(settings.batch_sizes, reverse=True)
        for i in range(settings.seeds)
    ]


def _facts(seed: int, settings: ForgettingSettings) -> dict:
    """What a seed fixes for both batch sizes: the background statements and the injected facts."""
    world = settings.world()
    rng = np.random.default_rng([seed, 3])
    injected = len(conditions(settings)) * settings.facts_per_condition + settings.control_facts
    people = world.draw_people(settings.background_people + injected, rng)
    background, fresh = people[: settings.background_people], people[settings.background_people :]
    values = rng.integers(0, settings.values, size=(len(background), settings.attributes))
    relation = rng.integers(0, settings.attributes, size=injected)
    value = rng.integers(0, settings.values, size=injected)
    zeros = np.zeros((injected, 1), dtype=int)
    return {
        "background": kit.statements(
            world,
            np.repeat(background, settings.attributes),
            np.tile(np.arange(settings.attributes), len(background)),
            np.zeros((values.size, 1), dtype=int),
            values.reshape(-1),
        ),
        "injected": kit.statements(world, fresh, relation, zeros, value),
        "relation": relation,
        "value": value,
    }


def run_job(job: dict, settings: ForgettingSettings) -> list[dict]:
    """Train one (seed, batch size) stream with its injections; the logged retention of every condition."""
    world = settings.world()
    facts = _facts(job["seed"], settings)
    schedule = exposure_steps(settings)
    size = settings.facts_per_condition
    at_step: dict[int, list[int]] = defaultdict(list)
    for index, steps in enumerate(schedule.values()):
        for step in steps:
            at_step[step].extend(range(index * size, (index + 1) * size))
    network = kit.build_network(world, settings.hidden, settings.layers, job["seed"], job.get("device", "cpu"))
    optimizer = kit.optimiser(network, settings.learning_rate)
    stream = np.random.default_rng([job["seed"], 5])
    per_batch = job["batch_rows"] * settings.statements_per_row
    prompts, rows = facts["injected"][:, :-1], np.arange(len(facts["value"]))
    logged: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    total = total_steps(settings)
    for step in range(total + 1):
        if step >= settings.start and (step % settings.log_every == 0 or step == total):
            scores = kit.score_values(network, world, prompts, facts["relation"])
            logged[step] = (scores[rows, facts["value"]], scores.argmax(axis=1) == facts["value"])
        if step == total:
            break
        batch = facts["background"][stream.integers(0, len(facts["background"]), per_batch)]
        if step in at_step:
            slots = stream.choice(per_batch, len(at_step[step]), replace=False)
            batch[slots] = facts["injected"][at_step[step]]
        ids, labels = kit.pack_rows(batch, settings.statements_per_row)
        rate = settings.learning_rate * min(1.0, (step + 1) / settings.warmup_steps)
        kit.train_step(network, optimizer, ids, labels, rate)
    return _rows(job, settings, schedule, logged)


def _rows(job: dict, settings: ForgettingSettings, schedule: dict, logged: dict) -> list[dict]:
    """The table's rows of one job: per condition and kept logged step, the means over its facts, and the gain
    over the control facts (never shown) at the same step."""
    controls = slice(len(schedule) * settings.facts_per_condition, None)
    out = []
    for index, ((count, spacing), steps) in enumerate(schedule.items()):
        part = slice(index * settings.facts_per_condition, (index + 1) * settings.facts_per_condition)
        for step, (log_q, correct) in logged.items():
            since = step - steps[-1]
            if not (step % SPARSE_EVERY == 0 or 0 < since <= DENSE_AFTER):
                continue
            out.append(
                {
                    **job,
                    "exposures": count,
                    "spacing": spacing,
                    "step": step,
                    "since_last": since,
                    "log_q": float(log_q[part].mean()),
                    "gain": float(log_q[part].mean() - log_q[controls].mean()),
                    "control_log_q": float(log_q[controls].mean()),
                    "accuracy": float(correct[part].mean()),
                }
            )
    return out


def tidy(rows: list[dict]) -> pd.DataFrame:
    """The table of every job's logged points."""
    columns = ["seed", "batch_rows", "exposures", "spacing", "step"]
    return pd.DataFrame(rows).sort_values(columns).reset_index(drop=True)


def retention_points(group: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """``(tau, gain, tau_end)``: the gains after the last exposure of the conditions with the most exposures
    of one (seed, batch size), pooled over their spacings, and the longest :math:`\tau` all of them reach."""
    most = group[(group["since_last"] > 0) & (group["exposures"] == group["exposures"].max())]
    if most.empty:
        return np.array([]), np.array([]), math.nan
    ends = most.groupby("spacing")["since_last"].max()
    return most["since_last"].to_numpy(float), most["gain"].to_numpy(float), float(ends.min())


def fit_retention(tau: np.ndarray, gain: np.ndarray) -> dict:
    """Least-squares power law and exponential, each with an asymptote, fitted to the gains after the last
    exposure (module docstring): their parameters and AICs.

    Returns
    -------
    dict
        ``exponent`` (b), ``scale`` (s, steps), ``aic_power``, ``aic_exponential`` and ``delta_aic``
        (exponential minus power law); NaN where a fit fails or there are fewer than 6 points.
    """
    from scipy.optimize import curve_fit

    failed = dict.fromkeys(("exponent", "scale", "aic_power", "aic_exponential", "delta_aic"), math.nan)
    if len(tau) < 6:
        return failed
    unit = float(tau.min())

    def power(t, a, b, c):
        return c + a * (t / unit) ** (-b)

    def exponential(t, a, s, c):
        return c + a * np.exp(-t / s)

    def aic(residuals: np.ndarray) -> float:
        n = len(residuals)
        return n * math.log(max(float(np.sum(residuals**2)), 1e-300) / n) + 2 * 3

    start = float(np.mean(gain[tau <= np.quantile(tau, 0.1)]))
    try:
        p, _ = curve_fit(
            power, tau, gain, p0=(start, 0.5, 0.0), bounds=([-100, 0, -100], [100, 10, 100]), maxfev=20_000
        )
        e, _ = curve_fit(
            exponential,
            tau,
            gain,
            p0=(start, float(np.median(tau)), 0.0),
            bounds=([-100, 1e-3, -100], [100, 1e9, 100]),
            maxfev=20_000,
        )
    except (RuntimeError, ValueError):
        return failed
    aic_power, aic_exponential = aic(gain - power(tau, *p)), aic(gain - exponential(tau, *e))
    return {
        "exponent": float(p[1]),
        "scale": float(e[1]),
        "aic_power": aic_power,
        "aic_exponential": aic_exponential,
        "delta_aic": aic_exponential - aic_power,
    }


def summarise(table: pd.DataFrame) -> dict:
    """Per batch size: the fits' exponent and ΔAIC, late retention and the gains; the batch-size effect; verdicts."""
    per = []
    for (seed, batch), group in table.groupby(["seed", "batch_rows"]):
        tau, gain, tau_end = retention_points(group)
        late = tau >= tau_end - LATE_WINDOW
        first_after = group[group["since_last"] > 0].sort_values("since_last").groupby("exposures")["gain"].first()
        per.append(
            {
                "seed": seed,
                "batch_rows": batch,
                "late_gain": float(gain[late].mean()) if late.any() else math.nan,
                **fit_retention(tau, gain),
                **{f"gain_{count}": value for count, value in first_after.items()},
            }
        )
    per = pd.DataFrame(per)
    small, large = sorted(per["batch_rows"].unique())
    first_step = table["step"].min()  # before any exposure: a condition's gain there is chance, 0 but for noise
    before = table[table["step"] == first_step].groupby(["seed", "batch_rows"])["gain"].mean()
    by_seed = per.pivot(index="seed", columns="batch_rows")
    counts = sorted(int(column.removeprefix("gain_")) for column in per.columns if column.startswith("gain_"))
    batches = {
        str(batch): {
            "exponent": kit.interval_entry(group["exponent"]),
            "delta_aic": kit.interval_entry(group["delta_aic"]),
            "late_gain": kit.interval_entry(group["late_gain"]),
            "gain_after_last": {str(count): kit.interval_entry(group[f"gain_{count}"]) for count in counts},
        }
        for batch, group in per.groupby("batch_rows")
    }
    summary = {
        "batch_sizes": batches,
        "delta_aic": kit.interval_entry(per.groupby("seed")["delta_aic"].mean()),
        "exponent_effect": kit.interval_entry(by_seed[("exponent", small)] - by_seed[("exponent", large)]),
        "retention_effect": kit.interval_entry(by_seed[("late_gain", large)] - by_seed[("late_gain", small)]),
        "most_exposures_gain": kit.interval_entry(per[f"gain_{counts[-1]}"]),
        "gain_before": kit.interval_entry(before),
    }
    summary["verdicts"] = {
        "chance_before_exposure": kit.verdict_band(summary["gain_before"], (-0.1, 0.1)),
        "learned": kit.verdict_band(summary["most_exposures_gain"], (0.5, math.inf)),
        "power_law_preferred": kit.verdict_band(summary["delta_aic"], (0.0, math.inf)),
        "larger_batch_forgets_slower": kit.verdict_band(summary["exponent_effect"], (0.0, math.inf)),
        "larger_batch_retains_more": kit.verdict_band(summary["retention_effect"], (0.0, math.inf)),
    }
    return summary


#: Each verdict of :func:`summarise`: what it claims, and the summary entry it rests on.
CLAIMS = {
    "chance_before_exposure": (
        "before any exposure the injected facts score as the control facts: gain within ±0.1 nats",
        ("gain_before",),
    ),
    "learned": (
        "the facts are learned: gain just after the last of the most exposures above 0.5 nats",
        ("most_exposures_gain",),
    ),
    "power_law_preferred": (
        "retention follows a power law rather than an exponential: ΔAIC (exp − power) above 0",
        ("delta_aic",),
    ),
    "larger_batch_forgets_slower": (
        "the larger batch decays with a smaller exponent: b(small) − b(large) above 0",
        ("exponent_effect",),
    ),
    "larger_batch_retains_more": (
        "the larger batch keeps more late on: R(large) − R(small) above 0",
        ("retention_effect",),
    ),
}


def condition_table(summary: dict) -> pd.DataFrame:
    """One row per batch size: the exponent, ΔAIC, late gain and the gain after the last exposure per
    exposure count, each as mean [low, high] over seeds."""
    rows = []
    for batch, entry in summary["batch_sizes"].items():
        row = {
            "batch (rows)": int(batch),
            "decay exponent b": kit.interval_text(entry["exponent"]),
            "ΔAIC (exp − power)": kit.interval_text(entry["delta_aic"], "{:,.0f}"),
            "late gain (nats)": kit.interval_text(entry["late_gain"]),
        }
        row |= {
            f"gain after {count} (nats)": kit.interval_text(value) for count, value in entry["gain_after_last"].items()
        }
        rows.append(row)
    return pd.DataFrame(rows)
