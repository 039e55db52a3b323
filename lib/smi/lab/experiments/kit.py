r"""What every lab experiment shares: a word-level world of facts, its network, training, scoring and intervals.

The experiments (:mod:`smi.lab.experiments`) study the storage of facts in controlled conditions, so
they skip the lab's documents and BPE tokenizer and write facts as short token sequences directly:

* a person's **name** is two syllable tokens (first and last, drawn from ``syllables`` each), so no
  token stands for one person and what the model knows about a person lives in its weights, not in
  an embedding row of its own;
* a **statement** is ``first last p₁ … p_m value``: the name, the phrasing tokens ``p`` of one
  relation (one token by default, more where an experiment varies the phrasing) and the value
  token, drawn from the relation's ``values`` tokens (:class:`World`);
* a training **row** is ``statements_per_row`` statements one after another; the loss is the
  cross-entropy of the value tokens only (the names are random draws, and learning which names
  exist would spend capacity on something that is not a fact).

The network is a GPT-NeoX of the lab's shape (:mod:`smi.lab.model`: 4 heads, a feed-forward layer
twice as wide, rotary positions) over this vocabulary (:func:`build_network`); it trains with
AdamW and the lab's learning-rate schedule (:func:`smi.lab.schedule.learning_rate`) on one CPU
thread per worker, so a (seed, condition) job gives the same numbers on every machine of a kind.

Scoring (:func:`score_values`) reads the log-probability of every candidate value of the relation
at the value position and normalises over those candidates: :math:`\log q(o \mid s, r)`, with
:math:`\sum_{o' \in C_r} q(o' \mid s, r) = 1`.

Intervals over seeds (:func:`seed_interval`) are Student-*t* intervals of the mean of one number per
seed. Jobs run in worker processes (:func:`run_jobs`) and each finished job is kept as a JSON file
keyed on its settings and the experiment's code (:func:`job_key`), so a killed run resumes where it
stopped and a changed setting or code recomputes.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smi.errors import ParameterValueError, SmiError, check_scalar, check_seed
from smi.hashing import code_sha256, json_sha256

#: Token ids of the padding token and of the first syllable; every world numbers its tokens from here.
PAD = 0
#: Most tokens a row may hold (the network's positions).
MAX_ROW_TOKENS = 256


@dataclass(frozen=True)
class World:
    """The vocabulary of an experiment: names of two syllables, relations with their phrasings and values.

    Token ids: 0 padding; then ``syllables`` first syllables, ``syllables`` last syllables; then the
    phrasing tokens (``relations × phrasing_tokens``); then the values (``relations × values``).
    """

    syllables: int
    relations: int
    values: int
    phrasing_tokens: int = 1

    def __post_init__(self) -> None:
        check_scalar(self.syllables, "syllables", "integer", minimum=2, maximum=4096)
        check_scalar(self.relations, "relations", "integer", minimum=1, maximum=64)
        check_scalar(self.values, "values", "integer", minimum=2, maximum=4096)
        check_scalar(self.phrasing_tokens, "phrasing_tokens", "integer", minimum=1, maximum=64)

    @property
    def vocabulary(self) -> int:
        """Number of token ids."""
        return 1 + 2 * self.syllables + self.relations * (self.phrasing_tokens + self.values)

    def name_tokens(self, people: np.ndarray) -> np.ndarray:
        """The two token ids of each person number (first syllable ``p // syllables``, last ``p % syllables``)."""
        people = np.asarray(people)
        return np.stack([1 + people // self.syllables, 1 + self.syllables + people % self.syllables], axis=-1)

    def phrasing_token(self, relation, index) -> np.ndarray:
        """The id of phrasing token ``index`` of ``relation``."""
        return 1 + 2 * self.syllables + np.asarray(relation) * self.phrasing_tokens + np.asarray(index)

    def value_token(self, relation, value) -> np.ndarray:
        """The id of value ``value`` of ``relation``."""
        first = 1 + 2 * self.syllables + self.relations * self.phrasing_tokens
        return first + np.asarray(relation) * self.values + np.asarray(value)

    def draw_people(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` distinct person numbers (distinct names), drawn with ``rng``."""
        names = self.syllables**2
        if count > names:
            raise SmiError(f"people must be at most {names:,} (syllables² distinct names) (got {count})")
        return rng.choice(names, size=count, replace=False)


def statements(world: World, people, relations, phrasings, values) -> np.ndarray:
    """Statement token rows ``first last p₁ … p_m value`` (one per fact), as an integer array.

    Parameters
    ----------
    world : World
        The vocabulary.
    people, relations, values : array_like of int
        Person number, relation and value of each statement.
    phrasings : array_like of int, shape (n, phrasing_tokens)
        The phrasing token indices of each statement (within its relation).

    Returns
    -------
    numpy.ndarray, shape (n, 3 + phrasing_tokens)
        The token ids.
    """
    relations = np.asarray(relations)
    phrasing = world.phrasing_token(relations[:, None], np.asarray(phrasings).reshape(len(relations), -1))
    return np.concatenate(
        [world.name_tokens(people), phrasing, world.value_token(relations, values)[:, None]], axis=1
    ).astype(np.int64)


def pack_rows(tokens: np.ndarray, per_row: int) -> tuple[np.ndarray, np.ndarray]:
    """Statements packed ``per_row`` to a row (the last row padded) with their labels.

    Parameters
    ----------
    tokens : numpy.ndarray, shape (n, length)
        Statement token rows, in the order wanted.
    per_row : int
        Statements per row.

    Returns
    -------
    ids : numpy.ndarray, shape (rows, per_row · length)
        Token ids (padding :data:`PAD`).
    labels : numpy.ndarray
        The value tokens where they are, -100 elsewhere (no loss).
    """
    n, length = tokens.shape
    rows = -(-n // per_row)
    padded = np.full((rows * per_row, length), PAD, dtype=np.int64)
    padded[:n] = tokens
    labels = np.full_like(padded, -100)
    labels[:n, -1] = tokens[:, -1]
    return padded.reshape(rows, per_row * length), labels.reshape(rows, per_row * length)


def build_network(world: World, hidden: int, layers: int, seed: int, device: str = "cpu"):
    """A randomly initialised GPT-NeoX of the lab's shape over ``world``'s vocabulary
    (:func:`smi.lab.model.random_network`, with the padding token as its beginning and end).

    Parameters
    ----------
    world : World
        The vocabulary.
    hidden, layers : int
        Width and depth (4 heads, feed-forward ``2 · hidden``: :mod:`smi.lab.model`).
    seed : int
        Seed of the initial weights (drawn on the CPU, then moved).
    device : {"cpu", "cuda"}
        Where the network trains.

    Returns
    -------
    transformers.GPTNeoXForCausalLM
        The network.
    """
    from smi.lab.model import random_network

    return random_network(world.vocabulary, hidden, layers, seed, PAD, PAD, PAD).to(device)


def parameter_counts(network) -> tuple[int, int]:
    """``(non_embedding, total)`` parameters: the non-embedding ones exclude the input and output embeddings."""
    total = sum(p.numel() for p in network.parameters())
    embedding = network.get_input_embeddings().weight.numel() + network.get_output_embeddings().weight.numel()
    return int(total - embedding), int(total)


def optimiser(network, learning_rate: float):
    """AdamW with the lab's betas (0.9, 0.95) and no weight decay."""
    import torch

    return torch.optim.AdamW(network.parameters(), lr=learning_rate, betas=(0.9, 0.95), weight_decay=0.0)


def train_step(network, optimizer, ids: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
    """One optimiser step on a batch of rows at ``learning_rate``; the batch's mean loss over value tokens.

    Raises
    ------
    SmiError
        When the loss is not finite (the learning rate is too large for this network).
    """
    import torch

    for group in optimizer.param_groups:
        group["lr"] = learning_rate
    network.train()
    device = network.device
    loss = network(input_ids=torch.from_numpy(ids).to(device), labels=torch.from_numpy(labels).to(device)).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise SmiError(f"training diverged (loss {value}); lower the learning rate")
    return value


def score_values(network, world: World, prompts: np.ndarray, relations: np.ndarray, batch: int = 512) -> np.ndarray:
    r"""Per prompt (name and phrasing, shape (n, length)) of relation ``relations[i]``, the log-probabilities
    (nats) of every value of the relation, normalised over them: :math:`\log q(o \mid s, r)` (module
    docstring), an array of shape (n, values); ``batch`` prompts per forward pass.
    """
    import torch

    network.eval()
    candidates = world.value_token(np.arange(world.relations)[:, None], np.arange(world.values)[None, :])
    out = np.empty((len(prompts), world.values))
    with torch.no_grad():
        for start in range(0, len(prompts), batch):
            ids = torch.from_numpy(np.ascontiguousarray(prompts[start : start + batch], dtype=np.int64))
            logits = network(input_ids=ids.to(network.device)).logits[:, -1, :].double().cpu()
            rows = torch.from_numpy(candidates[relations[start : start + batch]])
            chosen = torch.gather(logits, 1, rows)
            out[start : start + len(ids)] = torch.log_softmax(chosen, dim=1).numpy()
    return out


def seed_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    r"""Mean of one number per seed with its Student-*t* interval.

    Parameters
    ----------
    values : array_like
        One value per seed (NaN values are dropped).
    level : float
        Confidence level.

    Returns
    -------
    mean, low, high : float
        The mean and the interval (NaN bounds with fewer than two seeds).

    Notes
    -----
    :math:`\bar x \pm t_{(1+\ell)/2,\,n-1}\, s / \sqrt n` with :math:`s` the sample standard deviation.
    """
    from scipy import stats

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(values.mean())
    if len(values) < 2:
        return (mean, math.nan, math.nan)
    half = float(stats.t.ppf((1 + level) / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return (mean, mean - half, mean + half)


def interval_entry(values, level: float = 0.95) -> dict:
    """:func:`seed_interval` as ``{"mean", "low", "high", "seeds"}`` (a summary's entry)."""
    mean, low, high = seed_interval(values, level)
    return {"mean": mean, "low": low, "high": high, "seeds": int(np.isfinite(np.asarray(values, float)).sum())}


def experiment_code_sha256(module: str) -> str:
    """SHA-256 of an experiment's code: its module and every :mod:`smi` module it imports, with torch's version."""
    from importlib.metadata import version

    return code_sha256([module], extra=f"torch={version('torch')};transformers={version('transformers')}")


def job_key(job: dict, settings: dict, code: str) -> str:
    """The key of a finished job's file: its description (with its seed), the experiment's settings but
    the number of seeds and the first seed (a job does not depend on them), and the code hash."""
    shared = {name: value for name, value in settings.items() if name not in ("seed", "seeds")}
    return json_sha256({"job": job, "settings": shared, "code": code})


def read_job(path: Path, key: str) -> list[dict] | None:
    """The rows of a finished job's file when its key is ``key`` and it is intact; None otherwise (recompute).

    The one reader of a job file (written by :func:`run_jobs`).
    """
    import json

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != key or not isinstance(record.get("rows"), list):
        return None
    if record.get("rows_sha256") != json_sha256(record["rows"]):
        return None
    return record["rows"]


def _worker_setup() -> None:
    """One torch thread per worker (same sums on every machine), and quiet transformers."""
    import torch

    torch.set_num_threads(1)
    from smi.lab.model import quiet_transformers

    quiet_transformers()


def _run_one(function, job: dict, settings) -> tuple[list[dict], float]:
    """``function(job, settings)`` timed, in a worker."""
    began = time.perf_counter()
    rows = function(job, settings)
    return rows, time.perf_counter() - began


def run_jobs(
    function, jobs: list[dict], settings, jobs_dir: Path, code: str, workers: int = 2, progress: bool = True
) -> list[dict]:
    """Every job's rows: each job's file in ``jobs_dir`` when valid (:func:`read_job`), else
    ``function(job, settings)`` (a module-level function returning the job's rows of the tidy table) in one
    of ``workers`` processes of one torch thread each (1: in this process); ``code`` is the experiment's
    code hash (:func:`experiment_code_sha256`), part of each job's key (:func:`job_key`). With
    ``progress``, a line per finished job on standard error. The rows come back in the order of ``jobs``.
    """
    from dataclasses import asdict

    from smi.files import write_json

    settings_dict = asdict(settings)
    jobs_dir = Path(jobs_dir)
    jobs_dir.mkdir(parents=True, exist_ok=True)
    keys = [job_key(job, settings_dict, code) for job in jobs]
    results: dict[int, list[dict]] = {}
    for index, key in enumerate(keys):
        rows = read_job(jobs_dir / f"{key}.json", key)
        if rows is not None:
            results[index] = rows
    todo = [index for index in range(len(jobs)) if index not in results]
    if progress and results:
        print(f"{len(results)} of {len(jobs)} jobs reused from {jobs_dir}", file=sys.stderr)

    def finish(index: int, rows: list[dict], seconds: float) -> None:
        write_json(
            {"key": keys[index], "job": jobs[index], "rows": rows, "rows_sha256": json_sha256(rows)},
            jobs_dir / f"{keys[index]}.json",
        )
        results[index] = rows
        if progress:
            print(f"job {len(results)}/{len(jobs)} done in {seconds:.0f} s: {jobs[index]}", file=sys.stderr)

    if workers == 1 or len(todo) <= 1:
        _worker_setup()  # this process trains on one thread too
        for index in todo:
            rows, seconds = _run_one(function, jobs[index], settings)
            finish(index, rows, seconds)
    else:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(min(workers, len(todo)), initializer=_worker_setup)
        try:
            pending = [(index, pool.apply_async(_run_one, (function, jobs[index], settings))) for index in todo]
            while pending:
                ready = [(index, result) for index, result in pending if result.ready()]
                for index, result in ready:
                    rows, seconds = result.get()
                    finish(index, rows, seconds)
                done = {index for index, _ in ready}
                pending = [(index, result) for index, result in pending if index not in done]
                if pending and not ready:
                    pending[0][1].wait(0.5)
            pool.close()
        finally:
            pool.terminate()  # an interrupted run stops its workers at once; finished jobs are kept
            pool.join()
    return [row for index in range(len(jobs)) for row in results[index]]


def train_epochs(
    network,
    tokens: np.ndarray,
    epochs: int,
    per_row: int,
    batch_rows: int,
    peak: float,
    warmup_share: float,
    rng: np.random.Generator,
) -> dict:
    """Train on the statements ``tokens`` for ``epochs`` epochs, each in a new order; how training went.

    Each epoch shuffles the statements with ``rng``, packs them ``per_row`` to a row
    (:func:`pack_rows`) and steps through batches of ``batch_rows`` rows, the learning rate following
    :func:`smi.lab.schedule.learning_rate` over all the steps (warm-up, then a half cosine to a tenth).

    Returns
    -------
    dict
        ``steps``, ``tokens`` (value tokens trained on) and ``final_loss`` (mean of the last epoch's batches).
    """
    from smi.lab.schedule import learning_rate

    rows = -(-len(tokens) // per_row)
    per_epoch = -(-rows // batch_rows)
    total = epochs * per_epoch
    optimizer = optimiser(network, peak)
    step, losses = 0, []
    for _ in range(epochs):
        ids, labels = pack_rows(tokens[rng.permutation(len(tokens))], per_row)
        losses = []
        for start in range(0, len(ids), batch_rows):
            rate = learning_rate(step, total, peak, warmup_share)
            losses.append(
                train_step(
                    network, optimizer, ids[start : start + batch_rows], labels[start : start + batch_rows], rate
                )
            )
            step += 1
    return {"steps": step, "tokens": epochs * len(tokens), "final_loss": float(np.mean(losses))}


def batch_rows_for(facts: int, per_row: int, most: int, steps_per_epoch: int) -> int:
    """Rows per batch: ``most``, or fewer so that an epoch has at least ``steps_per_epoch`` steps (at least 1 row)."""
    rows = -(-facts // per_row)
    return int(max(1, min(most, rows // steps_per_epoch)))


def derangement(count: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``range(count)`` with no fixed point (a shift of a random order)."""
    order = rng.permutation(count)
    shuffled = np.empty(count, dtype=int)
    shuffled[order] = np.roll(order, 1)
    return shuffled


def verdict_band(entry: dict, band: tuple[float, float]) -> str:
    """``holds`` when the interval lies strictly inside ``band``, ``fails`` when it lies strictly outside, else
    ``undecided`` (it touches or straddles a bound). One side may be infinite: ``(0, math.inf)`` claims "above 0"."""
    low, high = entry["low"], entry["high"]
    if not (low == low and high == high):
        return "undecided"
    if band[0] < low and high < band[1]:
        return "holds"
    if high < band[0] or low > band[1]:
        return "fails"
    return "undecided"


def check_common(settings, widths: tuple[int, ...] | None = None, width_name: str = "hidden") -> None:
    """The knobs every experiment's settings share: the seeds, the world's and the network's.

    Parameters
    ----------
    settings : dataclass
        An experiment's settings, with ``seed``, ``seeds``, ``attributes``, ``values``, ``syllables``,
        ``layers``, ``learning_rate`` (and ``hidden`` when ``widths`` is None).
    widths : tuple of int or None
        The network widths; the settings' ``hidden`` when None.
    width_name : str
        The parameter the widths are named by in an error (each 4 to 512, a multiple of the 4 heads).

    Raises
    ------
    ParameterValueError
        Naming the first knob out of range.
    """
    check_seed(settings.seed)
    check_scalar(settings.seeds, "seeds", "integer", minimum=1, maximum=20)
    check_scalar(settings.attributes, "attributes", "integer", minimum=1, maximum=16)
    check_scalar(settings.values, "values", "integer", minimum=2, maximum=1024)
    check_scalar(settings.syllables, "syllables", "integer", minimum=4, maximum=256)
    check_scalar(settings.layers, "layers", "integer", minimum=1, maximum=8)
    check_scalar(settings.learning_rate, "learning_rate", above=0, maximum=1)
    for width in (settings.hidden,) if widths is None else widths:
        check_scalar(width, width_name, "integer", minimum=4, maximum=512)
        if width % 4:
            raise ParameterValueError(width_name, f"must be a multiple of 4 (4 heads) (got {width})")


def interval_text(entry: dict, number: str = "{:.2f}") -> str:
    """An :func:`interval_entry` as ``mean [low, high]`` (``number`` formats each)."""
    parts = [number.format(entry[key]) if entry[key] == entry[key] else "n/a" for key in ("mean", "low", "high")]
    return f"{parts[0]} [{parts[1]}, {parts[2]}]"
