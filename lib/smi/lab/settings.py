"""Every knob of the lab, in a module light enough for ``smi --help`` (no numpy, pandas or torch).

* :class:`CorpusSettings`: the power-law corpus generator's knobs (:mod:`smi.lab.power`);
* :class:`ProbeOptions` and :data:`PROTOCOLS`: how the trained models are probed;
* :class:`LabSettings`, :func:`default_settings` and :func:`check_sizes`: what ``smi lab run`` decides,
  with the model sizes it trains (:data:`DEFAULT_SIZES`, :data:`QUICK_SIZES`).

The crossed design's knobs (:class:`smi.lab.design.DesignSettings`) and the training's
(:class:`smi.lab.train.TrainSettings`) live beside the code they steer; :class:`LabSettings`
holds one of each, made only when a :class:`LabSettings` is.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from smi.errors import ParameterValueError, check_scalar, check_seed
from smi.lab.model import model_size

if TYPE_CHECKING:
    from smi.lab.design import DesignSettings
    from smi.lab.train import TrainSettings

#: The range of each whole-number knob. The upper bounds keep a corpus (and the runs on it) within
#: about 24 GiB and two cores: at most 125 times the default entities, 8 times its documents per fact.
WHOLE_RANGES = {
    "people": (0, 10_000),
    "organisations": (0, 10_000),
    "max_stated": (1, 2048),
    "max_mentions": (1, 64),
    "max_extra_docs": (0, 256),
    "max_background": (0, 256),
    "filler_vocabulary": (100, 100_000),
}
#: The largest exponent or rate (``exposure_exponent``, ``popularity_exponent``, ``filler_rate``).
MAX_RATE = 16.0


@dataclass(frozen=True)
class CorpusSettings:
    """Every knob of :func:`smi.lab.power.generate_corpus` (its module docstring says what each does)."""

    seed: int = 0
    people: int = 80
    organisations: int = 16
    zero_share: float = 0.15
    max_stated: int = 256
    exposure_exponent: float = 1.5
    mention_share: float = 0.1
    max_mentions: int = 6
    max_extra_docs: int = 32
    popularity_exponent: float = 1.0
    max_background: int = 32
    filler_rate: float = 0.5
    filler_vocabulary: int = 2500

    def __post_init__(self) -> None:
        check_seed(self.seed)
        for name, (minimum, maximum) in WHOLE_RANGES.items():
            check_scalar(getattr(self, name), name, "integer", minimum=minimum, maximum=maximum)
        for name in ("zero_share", "mention_share"):
            check_scalar(getattr(self, name), name, minimum=0, maximum=1)
        for name in ("exposure_exponent", "popularity_exponent", "filler_rate"):
            check_scalar(getattr(self, name), name, minimum=0, maximum=MAX_RATE)
        if self.people == 0 and self.organisations == 0:
            raise ParameterValueError(
                "organisations",
                "must be at least 1 when people is 0 (both 0: the corpus would have no entities, facts or documents)",
            )


#: The model sizes ``smi lab run`` trains, and those of its quick mode (names of :data:`smi.lab.model.SIZES`).
DEFAULT_SIZES = ("xs", "s", "m", "l")
QUICK_SIZES = ("xs", "s", "m")
#: How the models are probed: rank-1 over the relation's objects, or sampled answers.
PROTOCOLS = ("rank", "sample")


@dataclass(frozen=True)
class ProbeOptions:
    """The lab's probe protocol (the paper's, with fewer samples and short answers)."""

    samples: int = 5
    temperature: float = 0.7
    max_new_tokens: int = 4
    batch_size: int = 256


def _crossed_design():
    from smi.lab.design import DesignSettings

    return DesignSettings()


def _lab_training():
    from smi.lab.train import TrainSettings

    return TrainSettings(batch_size=8)


@dataclass(frozen=True)
class LabSettings:
    """Everything ``smi lab run`` decides: sizes, corpus knobs, training and probe settings, seeds.

    ``corpus`` is a :class:`smi.lab.design.DesignSettings` (the crossed design, default) or a
    :class:`CorpusSettings` (the power-law design); seed :math:`i` of ``seeds``
    uses ``seed + i`` for its corpus, training and probe. ``jobs`` worker processes of one
    thread each train and probe the (seed, size) jobs (:mod:`smi.lab.experiment`).
    """

    sizes: tuple[str, ...] = DEFAULT_SIZES
    seed: int = 0
    corpus: DesignSettings | CorpusSettings = field(default_factory=_crossed_design)
    training: TrainSettings = field(default_factory=_lab_training)
    probe: ProbeOptions = ProbeOptions()
    gbm_iterations: int = 200
    bootstrap: int = 200
    seeds: int = 3
    protocol: str = "rank"
    jobs: int = 2

    def __post_init__(self) -> None:
        check_scalar(self.seeds, "seeds", "integer", minimum=1, maximum=20)
        if self.protocol not in PROTOCOLS:
            raise ParameterValueError("protocol", f"must be one of {', '.join(PROTOCOLS)} (got {self.protocol!r})")
        check_scalar(self.jobs, "jobs", "integer", minimum=1, maximum=64)


def default_settings(
    quick: bool = False,
    seed: int = 0,
    sizes: tuple[str, ...] | None = None,
    epochs: float | None = None,
    seeds: int | None = None,
    corpus_design: str = "crossed",
    protocol: str = "rank",
    jobs: int = 2,
) -> LabSettings:
    """The default lab (``quick=False``) or the small one the tests run (``quick=True``), for ``seed``.

    Parameters
    ----------
    quick : bool
        The small lab of the tests and the notebook's quick mode.
    seed : int
        Seed of the corpus, training and probing.
    sizes : tuple of str or None
        Model sizes to train; the mode's default when None.
    epochs : float or None
        Training epochs; the mode's default when None.
    seeds : int or None
        Corpora (and trainings) per size; 3 when None (2 in quick mode).
    corpus_design : {"crossed", "power"}
        The corpus design (:mod:`smi.lab.design` or :mod:`smi.lab.power`).
    protocol : {"rank", "sample"}
        How the models are probed.
    jobs : int
        Worker processes.

    Returns
    -------
    LabSettings
        The settings.

    Raises
    ------
    SmiError
        When ``sizes`` is invalid (:func:`check_sizes`), or a design, protocol, seeds or jobs is.
    """
    if corpus_design not in ("crossed", "power"):
        raise ParameterValueError("corpus_design", f"must be crossed or power (got {corpus_design!r})")
    base = LabSettings(protocol=protocol, jobs=jobs)
    if corpus_design == "power":
        base = replace(base, corpus=CorpusSettings())
    if quick:
        if corpus_design == "power":
            corpus = replace(base.corpus, people=24, organisations=6, max_stated=64, max_extra_docs=8, max_background=8)
        else:
            corpus = replace(base.corpus, facts_per_relation=15, background_docs=(0, 4, 16))
        base = replace(
            base,
            sizes=QUICK_SIZES,
            corpus=corpus,
            training=replace(base.training, epochs=10),
            probe=replace(base.probe, samples=3),
            gbm_iterations=40,
            bootstrap=50,
            seeds=2,
        )
    if seeds is not None:
        base = replace(base, seeds=seeds)
    base = replace(base, seed=seed, corpus=replace(base.corpus, seed=seed), training=replace(base.training, seed=seed))
    if sizes is not None:
        base = replace(base, sizes=tuple(sizes))
    if epochs is not None:
        base = replace(base, training=replace(base.training, epochs=epochs))
    check_sizes(base.sizes)
    return base


def check_sizes(sizes: tuple[str, ...]) -> tuple[str, ...]:
    """At least three distinct known sizes (the prediction fits on all but the largest).

    Parameters
    ----------
    sizes : tuple of str
        Model size names.

    Returns
    -------
    tuple of str
        ``sizes``.

    Raises
    ------
    SmiError
        When a size is unknown or repeated, or there are fewer than three.
    """
    for name in sizes:
        model_size(name)
    if len(set(sizes)) != len(sizes):
        raise ParameterValueError("sizes", f"gives a size twice ({', '.join(sizes)})")
    if len(sizes) < 3:
        raise ParameterValueError(
            "sizes",
            f"must name at least three sizes (got {', '.join(sizes)}): the prediction fits on all but the largest",
        )
    return sizes
