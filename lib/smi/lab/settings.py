"""The knobs of the lab corpus, in a module light enough for ``smi --help`` (no numpy or pandas)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from smi.errors import SmiError, check_seed

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
    """Every knob of :func:`smi.lab.corpus.generate_corpus` (its module docstring says what each does)."""

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
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
                option = "--" + name.replace("_", "-")
                raise SmiError(f"{option} must be a whole number from {minimum} to {maximum} (got {value!r})")
        for name in ("zero_share", "mention_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise SmiError(f"--{name.replace('_', '-')} must lie in [0, 1] (got {value})")
        for name in ("exposure_exponent", "popularity_exponent", "filler_rate"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= MAX_RATE):
                raise SmiError(f"--{name.replace('_', '-')} must be a number from 0 to {MAX_RATE} (got {value})")
        if self.people == 0 and self.organisations == 0:
            raise SmiError(
                "--people and --organisations are both 0: the corpus would have no entities, no facts and no documents"
            )
