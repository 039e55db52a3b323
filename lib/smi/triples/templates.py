"""Prompt templates from ParaRel's patterns: the prompts that end where the object goes.

A pattern such as ``"[X] was born in [Y]."`` becomes the prompt ``"[S] was born in"``
(:func:`object_last_prefix`); a pattern whose object slot is not last gives no
prompt. Each relation asks its facts with its first such prompt (:func:`query_prompts`);
each class's templates are its distinct prompts (:func:`prompt_templates`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smi.triples.pararel import REGION_FIRST_CAPITAL, load_patterns


def swap_slots(pattern: str) -> str:
    """Exchange the subject and object slots of a pattern (``[X]`` ↔ ``[Y]``).

    Parameters
    ----------
    pattern : str
        A pattern with ``[X]`` and ``[Y]``.

    Returns
    -------
    str
        The pattern with the slots exchanged.
    """
    return pattern.replace("[X]", "\0").replace("[Y]", "[X]").replace("\0", "[Y]")


def object_last_prefix(pattern: str) -> str | None:
    """The prompt prefix of a pattern whose object slot comes last, with ``[S]`` for the subject.

    ``"[X] was born in [Y]."`` → ``"[S] was born in"``; ``"[Y] musicians such as [X]."``
    and ``"[X] plays [Y] music ."`` → None (the object is not where the prompt ends).

    Parameters
    ----------
    pattern : str
        A pattern with ``[X]`` (subject) and ``[Y]`` (object).

    Returns
    -------
    str or None
        The prompt, or None when the object slot does not end the pattern.
    """
    body = pattern.strip().rstrip(" .")
    if not body.endswith("[Y]") or body.count("[Y]") != 1 or body.count("[X]") != 1:
        return None
    prefix = " ".join(body[: -len("[Y]")].split())
    return prefix.replace("[X]", "[S]") if prefix else None


def relation_patterns(
    pararel_root: Path, mapping: dict[str, tuple[str, ...]], capital_city_first: bool = False
) -> pd.DataFrame:
    """Every ParaRel pattern of the mapped relations: rel, pid, pattern (in the facts' direction), prompt.

    ``prompt`` is :func:`object_last_prefix` of the pattern (None when the object
    slot is not last).

    Parameters
    ----------
    pararel_root : Path
        The ParaRel folder.
    mapping : dict of str to tuple of str
        Relation class → PIDs.
    capital_city_first : bool
        Swap the slots of P36 so that ``capital`` facts read "[subj] is the capital of [obj]".

    Returns
    -------
    pandas.DataFrame
        Columns rel, pid, pattern, prompt.

    Raises
    ------
    SmiError
        When a patterns file is missing or invalid.
    """
    rows = []
    for rel, pids in mapping.items():
        for pid in pids:
            for pattern in load_patterns(pararel_root, pid):
                if capital_city_first and pid == REGION_FIRST_CAPITAL:
                    pattern = swap_slots(pattern)
                rows.append({"rel": rel, "pid": pid, "pattern": pattern, "prompt": object_last_prefix(pattern)})
    return pd.DataFrame(rows, columns=["rel", "pid", "pattern", "prompt"])


def prompt_templates(patterns: pd.DataFrame) -> dict[str, list[str]]:
    """Distinct object-last prompts per class ({rel: ["[S] was born in", ...]}), in pattern order.

    Parameters
    ----------
    patterns : pandas.DataFrame
        :func:`relation_patterns`' output.

    Returns
    -------
    dict of str to list of str
        The templates of each class.
    """
    usable = patterns.dropna(subset=["prompt"])
    return {rel: list(dict.fromkeys(group["prompt"])) for rel, group in usable.groupby("rel", sort=False)}


def query_prompts(patterns: pd.DataFrame) -> dict[str, str]:
    """The prompt each relation asks its facts with: its first object-last pattern ({pid: prompt}).

    Parameters
    ----------
    patterns : pandas.DataFrame
        :func:`relation_patterns`' output.

    Returns
    -------
    dict of str to str
        The query prompt of each relation id that has an object-last pattern.
    """
    usable = patterns.dropna(subset=["prompt"])
    return usable.groupby("pid", sort=False)["prompt"].first().to_dict()
