"""The paper's headline claim about the bucketed R² of SMI, version by version, checked against our fits."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from smi.errors import SmiError

__all__ = [
    "APPROXIMATE_TOLERANCE",
    "HEADLINE_CLAIMS",
    "HEADLINE_MODELS",
    "HeadlineClaim",
    "check_headline",
    "claim_models",
]


@dataclass(frozen=True)
class HeadlineClaim:
    """One version of the paper's headline claim about the bucketed :math:`R^2` of SMI.

    Attributes
    ----------
    version : str
        Which version of the paper states it.
    threshold : float
        The :math:`R^2` the claim names.
    models : tuple of str
        The models it names (this project's names); empty when it names a size instead.
    min_parameters : float
        With ``models`` empty: the claim covers every model with more parameters than this.
    approximate : bool
        True when the claim is "about ``threshold``" rather than "above ``threshold``".
    """

    version: str
    threshold: float
    models: tuple[str, ...] = ()
    min_parameters: float = 0.0
    approximate: bool = False

    @property
    def statement(self) -> str:
        """The claim in one line."""
        who = ", ".join(self.models) if self.models else f"every model over {self.min_parameters / 1e9:g}B parameters"
        relation = "about" if self.approximate else "above"
        return f"bucketed R² of SMI {relation} {self.threshold:g} for {who}"


#: The four models the first version names: 1.1B, 1.6B, 7B and 13B parameters.
HEADLINE_MODELS = ("TinyLlama-1.1B-intermediate-step-480k-1T", "ours-1.6b", "ours-7b", "ours-13b")

#: The headline claim as it changed between versions of the paper (arXiv 2502.04066, then ACL 2026).
HEADLINE_CLAIMS = (
    HeadlineClaim("arXiv, first version", 0.84, HEADLINE_MODELS),
    HeadlineClaim("arXiv, first revision", 0.75, HEADLINE_MODELS),
    HeadlineClaim("arXiv, second revision", 0.70, min_parameters=1e9),
    HeadlineClaim("ACL 2026", 0.70, min_parameters=1e9, approximate=True),
)

#: How far the median may lie from an "about" claim's value for the claim to hold.
APPROXIMATE_TOLERANCE = 0.05


def claim_models(claim: HeadlineClaim, models: pd.DataFrame) -> list[str]:
    """The models of ``models`` (a models table: name, parameters) that ``claim`` covers, in the table's order."""
    if claim.models:
        missing = sorted(set(claim.models) - set(models["name"]))
        if missing:
            raise SmiError(f"the models table lacks {', '.join(missing)}, named by the claim of {claim.version}")
        return [name for name in models["name"] if name in claim.models]
    return list(models.loc[models["parameters"] > claim.min_parameters, "name"])


def check_headline(claims, fits: dict[str, pd.DataFrame], models: pd.DataFrame) -> pd.DataFrame:
    """Each version of the headline claim checked against bucketed fits of the release.

    Parameters
    ----------
    claims : sequence of HeadlineClaim
        Usually :data:`HEADLINE_CLAIMS`.
    fits : dict of str to pandas.DataFrame
        Bucketed tables of :func:`smi.regression.fit_all` (model, method, r2), keyed by a label
        of the facts they were fitted on (e.g. all facts; without the answer-in-subject facts).
    models : pandas.DataFrame
        The models table (name, parameters).

    Returns
    -------
    pandas.DataFrame
        One row per claim and fit: version, claim, facts (the fit's label), models (how many
        the claim covers), lowest, median and highest R² of SMI over them, and holds.

    Notes
    -----
    A claim "above :math:`t`" holds when every model it covers has :math:`R^2 > t`; a claim
    "about :math:`t`" holds when the median over its models lies within
    :data:`APPROXIMATE_TOLERANCE` of :math:`t`.
    """
    rows = []
    for claim in claims:
        names = claim_models(claim, models)
        for label, table in fits.items():
            r2 = table[table["method"] == "SMI"].set_index("model")["r2"].reindex(names)
            if r2.isna().any():
                raise SmiError(f"the fit '{label}' lacks {', '.join(r2.index[r2.isna()])}")
            if claim.approximate:
                holds = abs(r2.median() - claim.threshold) <= APPROXIMATE_TOLERANCE
            else:
                holds = bool((r2 > claim.threshold).all())
            rows.append(
                {
                    "version": claim.version,
                    "claim": claim.statement,
                    "facts": label,
                    "models": len(names),
                    "lowest": r2.min(),
                    "median": r2.median(),
                    "highest": r2.max(),
                    "holds": bool(holds),
                }
            )
    return pd.DataFrame(rows)
