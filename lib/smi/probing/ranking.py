r"""The ranking protocol: every candidate object of the relation scored by its teacher-forced log-likelihood.

For a fact :math:`(s, r, o)`, each prompt :math:`t` of relation :math:`r` (the
template filled with :math:`s`) is followed in turn by every object :math:`c` of
the relation's pool :math:`C_r` (by default the distinct objects of the facts of
:math:`r`), and the model's log-likelihood of the object's tokens given the
prompt is summed:

.. math::

    \ell_t(c) = \sum_{j=L}^{|x|-1} \log p_\theta(x_j \mid x_{<j}),
    \qquad x = \mathrm{tok}(t \,\|\, \text{" "} \,\|\, c),

where :math:`L` is the length of the longest common prefix of :math:`\mathrm{tok}(t)`
and :math:`x` (at least 1). The fact's record holds

* ``acc`` (= ``rank1_acc``): the share of prompts at which :math:`o` has the highest
  :math:`\ell_t` (a tie of :math:`m` candidates at the top counts :math:`1/m`);
* ``p_true``: the mean over prompts of :math:`o`'s probability within the pool,
  :math:`\exp \ell_t(o) / \sum_{c \in C_r} \exp \ell_t(c)`;
* ``rank``: the mean rank of :math:`o` (1 best, ties at their mean rank);
* ``logp_true``: the mean :math:`\ell_t(o)`; ``n_candidates`` and ``n_answers`` (the prompts).

Nothing is sampled, so the record is a function of the model, the prompts and the pool; a
scorer keeps the scores of every prompt it has seen, so asking a prompt again costs nothing.
Each prompt is one forward pass over its candidates, right-padded to that prompt's own
longest candidate, with rows in a fixed order; ``batch_size`` only splits very large
pools into chunks of rows, and each row's numbers do not depend on the other rows
(``tests/test_lab_design.py`` checks equality across batch sizes on one CPU thread, as
``smi lab`` runs; with several threads a sum may be split differently, by about 1e-9). Log-probabilities are
taken in float64 and written rounded to :data:`DIGITS` significant digits.

Records have the layout of :func:`smi.probing.probe`'s (``idx, subj, rel, obj, qus``,
the counts, ``acc``, ``n_answers``), so ``smi fit`` reads them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from smi.errors import SmiError, check_scalar
from smi.hashing import json_sha256
from smi.probing.protocol import fill_template
from smi.records import COUNT_FIELDS

#: Significant digits of the probabilities written.
DIGITS = 10
#: Part of every partial file's key of a ranking run.
RANK_PROTOCOL_VERSION = 1


def object_pools(facts: pd.DataFrame) -> dict[str, list[str]]:
    """Each relation's candidate objects: the distinct objects of its facts, sorted.

    Parameters
    ----------
    facts : pandas.DataFrame
        Facts with ``rel`` and ``obj``.

    Returns
    -------
    dict of str to list of str
        The pools.
    """
    return {rel: sorted(set(group)) for rel, group in facts.groupby("rel", sort=True)["obj"]}


class RankScorer:
    """Teacher-forced log-likelihoods of candidate continuations under a Hugging Face causal LM.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A causal LM.
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    batch_size : int
        Most rows (candidates) per forward pass, at least 1.

    Raises
    ------
    ParameterValueError
        When ``batch_size`` is below 1.
    """

    def __init__(self, model, tokenizer, batch_size: int = 256) -> None:
        check_scalar(batch_size, "batch_size", "integer", minimum=1)
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.pad_id = 0 if pad is None else int(pad)
        self._scores: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    def fingerprint(self) -> dict:
        """What decides the scores besides prompts and candidates: weights, config and tokenizer.

        Returns
        -------
        dict
            Hashes of the weights, config and tokenizer, the device and library versions.
        """
        import torch
        import transformers

        from smi.probing.backends import tensors_sha256, tokenizer_sha256

        config = self.model.config.to_dict()
        config.pop("_name_or_path", None)
        return {
            "backend": "transformers-rank",
            "weights_sha256": tensors_sha256(self.model.state_dict()),
            "config_sha256": json_sha256(config),
            "tokenizer_sha256": tokenizer_sha256(self.tokenizer),
            "device": str(self.model.device.type),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }

    def sequences(self, prompt: str, candidates: Sequence[str]) -> tuple[list[list[int]], list[int]]:
        """Token ids of ``prompt + " " + c`` for every candidate, and where each candidate's scored part starts.

        Parameters
        ----------
        prompt : str
            The filled prompt.
        candidates : sequence of str
            The candidate objects.

        Returns
        -------
        ids : list of list of int
            One sequence per candidate.
        starts : list of int
            The first scored position of each (the common prefix with the prompt's ids, at least 1).
        """
        prompt_ids = self.tokenizer(prompt)["input_ids"]
        ids, starts = [], []
        for candidate in candidates:
            full = self.tokenizer(f"{prompt} {candidate}")["input_ids"]
            common = 0
            while common < min(len(prompt_ids), len(full)) and prompt_ids[common] == full[common]:
                common += 1
            ids.append(full)
            starts.append(max(1, min(common, len(full) - 1)))
        return ids, starts

    def score(self, prompt: str, candidates: Sequence[str]) -> np.ndarray:
        r""":math:`\ell(c)` of every candidate after ``prompt`` (module docstring).

        Parameters
        ----------
        prompt : str
            The filled prompt.
        candidates : sequence of str
            The candidate objects.

        Returns
        -------
        numpy.ndarray
            One float64 log-likelihood per candidate.

        Notes
        -----
        :math:`\ell(c) = \sum_{j \ge L} \log \mathrm{softmax}(z_{j-1})[x_j]`, in float64.
        """
        import torch

        known = self._scores.get((prompt, tuple(candidates)))
        if known is not None:  # a prompt asked again (the shuffled-subject control asks other facts' prompts)
            return known.copy()
        ids, starts = self.sequences(prompt, candidates)
        width = max(len(row) for row in ids)
        scores = np.zeros(len(ids))
        device = self.model.device
        for begin in range(0, len(ids), self.batch_size):
            rows = range(begin, min(len(ids), begin + self.batch_size))
            batch = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for number, row in enumerate(rows):
                batch[number, : len(ids[row])] = torch.tensor(ids[row])
                mask[number, : len(ids[row])] = 1
            with torch.inference_mode():
                logits = self.model(input_ids=batch.to(device), attention_mask=mask.to(device)).logits
                logprobs = torch.log_softmax(logits.double(), dim=-1).cpu()
            for number, row in enumerate(rows):
                positions = torch.arange(starts[row], len(ids[row]))
                targets = torch.tensor(ids[row][starts[row] :])
                scores[row] = float(logprobs[number, positions - 1, targets].sum())
        self._scores[(prompt, tuple(candidates))] = scores.copy()
        return scores


def rank_summary(scores: np.ndarray, true_index: int) -> dict:
    r"""Rank-1 credit, rank and pool probability of candidate ``true_index`` given its scores.

    Parameters
    ----------
    scores : numpy.ndarray
        Log-likelihood of each candidate.
    true_index : int
        Which candidate is the fact's object.

    Returns
    -------
    dict
        ``rank1`` (1/m when m candidates tie at the top with it, else 0), ``rank`` (1 + the
        number of better candidates + half the others tied with it), ``p`` and ``logp``.

    Notes
    -----
    :math:`p = \exp(\ell(o) - \max \ell) / \sum_c \exp(\ell(c) - \max \ell)`.
    """
    true = scores[true_index]
    better = int((scores > true).sum())
    tied = int((scores == true).sum())
    shifted = np.exp(scores - scores.max())
    return {
        "rank1": 1.0 / tied if better == 0 else 0.0,
        "rank": 1.0 + better + (tied - 1) / 2.0,
        "p": float(shifted[true_index] / shifted.sum()),
        "logp": float(true),
    }


def _round(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def rank_record(fact: dict, templates: list[str], pool: list[str], scorer: RankScorer) -> dict:
    """The record of one fact under the ranking protocol (module docstring).

    Parameters
    ----------
    fact : dict
        ``idx, subj, rel, obj``, optionally ``qus`` and counts; ``subj`` fills the prompts.
    templates : list of str
        The relation's templates.
    pool : list of str
        The relation's candidate objects; must hold ``obj``.
    scorer : RankScorer
        The model.

    Returns
    -------
    dict
        ``idx, subj, rel, obj, qus``, counts, ``acc``, ``rank1_acc``, ``p_true``, ``rank``,
        ``logp_true``, ``n_candidates``, ``n_answers``.

    Raises
    ------
    SmiError
        When the object is not in the pool.
    """
    if fact["obj"] not in pool:
        raise SmiError(f"fact {fact['idx']}: object {fact['obj']!r} is not among the relation's candidates")
    true_index = pool.index(fact["obj"])
    parts = [rank_summary(scorer.score(fill_template(t, fact["subj"]), pool), true_index) for t in templates]
    record = {field: _plain(fact[field]) for field in ("idx", "subj", "rel", "obj")}
    record["qus"] = fact.get("qus") if isinstance(fact.get("qus"), str) else fill_template(templates[0], fact["subj"])
    for field in COUNT_FIELDS:
        if field in fact and fact[field] is not None and not pd.isna(fact[field]):
            record[field] = int(fact[field])
    acc = float(np.mean([part["rank1"] for part in parts]))
    record["acc"] = _round(acc)
    record["rank1_acc"] = _round(acc)
    record["p_true"] = _round(float(np.mean([part["p"] for part in parts])))
    record["rank"] = _round(float(np.mean([part["rank"] for part in parts])))
    record["logp_true"] = _round(float(np.mean([part["logp"] for part in parts])))
    record["n_candidates"] = len(pool)
    record["n_answers"] = len(parts)
    return record


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def rank_header(facts: pd.DataFrame, templates: dict, pools: dict, fingerprint: dict) -> dict:
    """The first line of a ranking run's partial file: everything its records depend on.

    Parameters
    ----------
    facts : pandas.DataFrame
        The facts (with counts).
    templates, pools : dict
        Templates and candidate pools by relation.
    fingerprint : dict
        :meth:`RankScorer.fingerprint`.

    Returns
    -------
    dict
        The header.
    """
    from smi.hashing import code_sha256, frame_sha256

    return {
        "smi_probe": f"rank/{RANK_PROTOCOL_VERSION}",
        "code_sha256": code_sha256(["smi.probing.ranking"]),
        "facts_sha256": frame_sha256(facts),
        "templates_sha256": json_sha256([templates, pools]),
        "model": fingerprint,
        "settings": {"protocol": "rank"},
        "keep_answers": False,
    }


def probe_rank(
    facts: pd.DataFrame,
    templates: dict[str, list[str]],
    scorer: RankScorer,
    out_path: Path,
    *,
    pools: dict[str, list[str]] | None = None,
    chunk_facts: int = 32,
    progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> list[dict]:
    r"""Probe every fact with the ranking protocol; resumable like :func:`smi.probing.probe`.

    Parameters
    ----------
    facts : pandas.DataFrame
        ``idx, subj, rel, obj`` (``qus`` and counts are carried into the records).
    templates : dict of str to list of str
        Templates by relation.
    scorer : RankScorer
        The model.
    out_path : Path
        The output JSON list.
    pools : dict of str to list of str or None
        Candidates by relation; :func:`object_pools` of ``facts`` when None.
    chunk_facts : int
        Facts per chunk appended to the partial file.
    progress : bool
        Show a progress bar.
    say : callable or None
        Receives a line about resuming.

    Returns
    -------
    list of dict
        One :func:`rank_record` per fact, in the facts' order.

    Raises
    ------
    SmiError
        When ``chunk_facts`` is below 1, a relation has no templates or an object no candidate.

    Notes
    -----
    :math:`\mathrm{acc} = \frac{1}{T}\sum_t \mathbb 1[\arg\max_{c \in C_r} \ell_t(c) = o]`.
    """
    from tqdm import tqdm

    from smi.files import check_writable
    from smi.probing.inputs import check_templates_cover
    from smi.probing.run import _append_lines, partial_path, start_partial, write_records

    check_scalar(chunk_facts, "chunk_facts", "integer", minimum=1)
    check_templates_cover(facts, templates, Path("facts"), Path("templates"))
    pools = object_pools(facts) if pools is None else {rel: list(pool) for rel, pool in pools.items()}
    out_path = check_writable(Path(out_path))
    header = rank_header(facts, templates, pools, scorer.fingerprint())
    done = start_partial(out_path, header, say)
    rows = facts.to_dict("records")
    todo = [fact for fact in rows if fact["idx"] not in done]
    with tqdm(total=len(rows), initial=len(rows) - len(todo), unit="fact", desc="rank", disable=not progress) as bar:
        for start in range(0, len(todo), chunk_facts):
            chunk = todo[start : start + chunk_facts]
            records = [rank_record(fact, templates[fact["rel"]], pools[fact["rel"]], scorer) for fact in chunk]
            _append_lines(partial_path(out_path), records)
            done.update((record["idx"], record) for record in records)
            bar.update(len(chunk))
    ordered = [done[fact["idx"]] for fact in rows]
    write_records(ordered, out_path)
    partial_path(out_path).unlink(missing_ok=True)
    return ordered


def load_rank_scorer(model_path: str | Path, batch_size: int = 256, device: str = "cpu", dtype: str = "auto"):
    """A :class:`RankScorer` of a model folder or hub id, loaded as :func:`smi.probing.load_transformers_generator`.

    Parameters
    ----------
    model_path : str or Path
        The model.
    batch_size : int
        Most rows per forward pass.
    device : {"cpu", "cuda"}
        Where the model runs.
    dtype : {"auto", "float32", "float16", "bfloat16"}
        The weights' dtype.

    Returns
    -------
    RankScorer
        The scorer.
    """
    from smi.probing.backends import load_transformers_generator
    from smi.probing.protocol import ProbeSettings

    generator = load_transformers_generator(model_path, ProbeSettings(samples=1, greedy=True), 1, device, dtype)
    generator.tokenizer.padding_side = "right"
    return RankScorer(generator.model, generator.tokenizer, batch_size)
