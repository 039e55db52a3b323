"""Knowledge probing: measure how much of each fact a causal language model knows.

The protocol follows the SMI paper's multi-template sampled question answering.
For a fact :math:`(s, r, o)` and the :math:`T` prompt templates of relation
:math:`r` (each holding the placeholder ``[S]``), the model continues every
prompt ``template.replace("[S]", s)`` :math:`K` times by sampling at
temperature :math:`\\tau` (0.7 by default). The fact's accuracy is the share of
all :math:`T \\cdot K` continuations that contain the object:

.. math::

    \\mathrm{acc}(s, r, o) = \\frac{1}{T K} \\sum_{t=1}^{T} \\sum_{k=1}^{K}
        \\mathbb{1}\\left[o \\text{ occurs in } a_{t,k}\\right]

"Occurs in" is the paper's plain substring rule (``"Paris" in answer``), so an
object that is part of a longer word also counts: the object ``"Rome"`` is
found in ``"Romeo"``. :func:`answer_contains_object` offers a stricter
``match="word"`` rule that requires word boundaries on both sides.

Sampling is seeded per continuation, not per batch: continuation :math:`k` of
template :math:`t` of fact ``idx`` draws its random numbers from its own
generator seeded by ``(seed, idx, t, k)`` (Gumbel-max sampling, see
:class:`RowSeededSampler`). The answers therefore do not depend on the batch
size, on which facts share a batch, or on whether a run was interrupted and
resumed; the same seed on the same device gives the same output.

The output is one record per fact with the fields of the release's per-model
files (``idx, subj, rel, obj, qus[, time_*], acc``) plus ``n_answers`` and,
on request, the ``answers`` themselves, so :func:`smi.release.load_model_output`
reads our measurements and the paper's alike once counts are joined.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np
import pandas as pd

from smi import metrics, release
from smi.errors import SmiError
from smi.files import atomic_output
from smi.probe_choices import BACKENDS, DTYPES, MATCH_RULES

PLACEHOLDER = "[S]"
#: Fields every record of a probe output carries, besides the counts when joined.
OUTPUT_FIELDS = ("idx", "subj", "rel", "obj", "qus", "acc", "n_answers")


@dataclass(frozen=True)
class ProbeSettings:
    """Everything that decides the answers; a resumed run must use the same values.

    ``greedy`` decodes deterministically (argmax), which gives one answer per
    template, so ``samples`` is then taken as 1.
    """

    samples: int = 20
    temperature: float = 0.7
    max_new_tokens: int = 32
    seed: int = 0
    greedy: bool = False
    match: str = "substring"
    ignore_case: bool = False

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise SmiError(f"--samples must be at least 1 (got {self.samples})")
        if self.max_new_tokens < 1:
            raise SmiError(f"--max-new-tokens must be at least 1 (got {self.max_new_tokens})")
        if not self.greedy and not self.temperature > 0:
            raise SmiError(f"--temperature must be positive (got {self.temperature}); use --greedy for argmax decoding")
        if self.match not in MATCH_RULES:
            raise SmiError(f"unknown match rule '{self.match}'; valid rules: {', '.join(MATCH_RULES)}")

    @property
    def answers_per_template(self) -> int:
        """Continuations drawn per prompt: ``samples``, or 1 when greedy."""
        return 1 if self.greedy else self.samples


# --------------------------------------------------------------------------- matching


def fill_template(template: str, subject: str) -> str:
    """The prompt for one fact: ``template`` with every ``[S]`` replaced by ``subject``."""
    if PLACEHOLDER not in template:
        raise SmiError(f"template {template!r} has no {PLACEHOLDER}")
    return template.replace(PLACEHOLDER, subject)


def answer_contains_object(answer: str, obj: str, match: str = "substring", ignore_case: bool = False) -> bool:
    """Whether a generated ``answer`` names the object ``obj``.

    ``match="substring"`` is the paper's rule: ``obj in answer``, so ``"Rome"``
    counts inside ``"Romeo"``. ``match="word"`` requires that no letter, digit
    or underscore touches the object on either side. ``ignore_case`` compares
    case-folded text.
    """
    if match not in MATCH_RULES:
        raise SmiError(f"unknown match rule '{match}'; valid rules: {', '.join(MATCH_RULES)}")
    if ignore_case:
        answer, obj = answer.casefold(), obj.casefold()
    if match == "substring":
        return obj in answer
    return re.search(rf"(?<!\w){re.escape(obj)}(?!\w)", answer) is not None


def accuracy(answers: Sequence[str], obj: str, match: str = "substring", ignore_case: bool = False) -> float:
    """Share of ``answers`` that contain ``obj``: :math:`\\frac{1}{n}\\sum_i \\mathbb{1}[o \\in a_i]`."""
    if not answers:
        raise SmiError(f"no answers to score for object {obj!r}")
    hits = sum(answer_contains_object(answer, obj, match, ignore_case) for answer in answers)
    return hits / len(answers)


# --------------------------------------------------------------------------- inputs


def load_probe_facts(path: Path) -> pd.DataFrame:
    """Facts to probe: a JSON list of records with idx, subj, rel, obj (qus and time_* kept when present)."""
    facts = release.load_facts(path)
    for field in ("subj", "rel", "obj"):
        bad = facts[field].map(lambda value: not isinstance(value, str) or not value.strip())
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise SmiError(f"{path}: record {row} (idx {facts['idx'].iloc[row]}): field '{field}' must be a non-empty string")
    return facts


def check_templates_cover(facts: pd.DataFrame, templates: dict[str, list[str]], facts_path: Path, templates_path: Path) -> None:
    """Every fact's relation must have templates; name the first fact whose relation has none."""
    missing = ~facts["rel"].isin(list(templates))
    if missing.any():
        row = int(missing.to_numpy().nonzero()[0][0])
        raise SmiError(
            f"{facts_path}: record {row} (idx {facts['idx'].iloc[row]}): relation '{facts['rel'].iloc[row]}' "
            f"has no templates in {templates_path} (relations there: {', '.join(sorted(templates))})"
        )


def load_counts(path: Path) -> pd.DataFrame:
    """Per-fact document counts (idx and the ``time_*`` fields), e.g. a release ``search/<corpus>/merge.json``."""
    frame = release.records_frame(path, ("idx",) + release.COUNT_FIELDS)
    frame = release.check_counts(frame, path)
    return frame[["idx", *release.COUNT_FIELDS]].drop_duplicates("idx").set_index("idx")


def attach_counts(facts: pd.DataFrame, counts: pd.DataFrame | None, counts_path: Path | None) -> pd.DataFrame:
    """Facts with the ``time_*`` counts of ``counts`` (indexed by idx); every fact must be there."""
    if counts is None:
        return facts
    absent = ~facts["idx"].isin(counts.index)
    if absent.any():
        idx = facts["idx"][absent].iloc[0]
        raise SmiError(f"{counts_path}: no counts for fact idx {idx} ({int(absent.sum())} facts missing)")
    kept = facts.drop(columns=[field for field in release.COUNT_FIELDS if field in facts.columns])
    return kept.join(counts, on="idx")


# --------------------------------------------------------------------------- seeding and generation


def continuation_seed(seed: int, idx: object, template_number: int, sample_number: int) -> int:
    """A 63-bit seed for one continuation, a hash of (seed, fact idx, template, sample)."""
    key = f"{seed}/{idx}/{template_number}/{sample_number}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


class Generator(Protocol):
    """Anything that continues prompts: one continuation per (prompt, seed) pair."""

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]: ...


class RowSeededSampler:
    """A logits processor that turns greedy decoding into seeded temperature sampling, row by row.

    Gumbel-max trick: with :math:`g_v = -\\log(-\\log u_v)`, :math:`u_v \\sim U(0,1)`,
    :math:`\\arg\\max_v (z_v/\\tau + g_v)` is a draw from :math:`\\mathrm{softmax}(z/\\tau)`.
    Each row draws its :math:`u` from its own ``torch.Generator``, so a row's
    tokens do not depend on its neighbours in the batch.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, device) -> None:
        import torch

        self.temperature = temperature
        self.generators = [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]

    def __call__(self, input_ids, scores):
        import torch

        vocab = scores.shape[-1]
        uniform = torch.stack([torch.rand(vocab, generator=g, device=scores.device) for g in self.generators])
        tiny = torch.finfo(uniform.dtype).tiny
        exponential = (-torch.log(uniform.clamp(min=tiny))).clamp(min=tiny)
        gumbel = -torch.log(exponential)
        return scores.float() / self.temperature + gumbel


class TransformersGenerator:
    """Batched generation with a Hugging Face causal LM, left padding and per-row seeds."""

    def __init__(self, model, tokenizer, settings: ProbeSettings, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise SmiError(f"--batch-size must be at least 1 (got {batch_size})")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        self.batch_size = batch_size
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            if self.tokenizer.eos_token is None:
                raise SmiError("the tokenizer has neither a pad nor an end-of-sequence token; cannot pad a batch")
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """One continuation per prompt; prompts of similar length share a batch."""
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        answers: list[str] = [""] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self._generate_batch([prompts[i] for i in rows], [seeds[i] for i in rows])
            for row, answer in zip(rows, batch):
                answers[row] = answer
        return answers

    def _generate_batch(self, prompts: list[str], seeds: list[int]) -> list[str]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.model.device)
        inputs.pop("token_type_ids", None)
        config = GenerationConfig(
            max_new_tokens=self.settings.max_new_tokens, do_sample=False, num_beams=1,
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id,
        )
        processors = LogitsProcessorList()
        if not self.settings.greedy:
            processors.append(RowSeededSampler(seeds, self.settings.temperature, self.model.device))
        with torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=config, logits_processor=processors)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        return self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)


class VllmGenerator:
    """Generation through vLLM (only when the ``vllm`` package is installed); one seeded request per row."""

    def __init__(self, model_path: str, settings: ProbeSettings, dtype: str = "auto") -> None:
        from vllm import LLM  # imported here: vllm is optional

        self.settings = settings
        try:
            self.llm = LLM(model=str(model_path), dtype=dtype, seed=settings.seed)
        except Exception as error:  # noqa: BLE001 - any load failure becomes one line
            raise SmiError(f"{model_path}: model does not load in vLLM ({type(error).__name__}: {first_line(error)})") from None

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        from vllm import SamplingParams

        temperature = 0.0 if self.settings.greedy else self.settings.temperature
        params = [SamplingParams(n=1, temperature=temperature, max_tokens=self.settings.max_new_tokens, seed=int(seed) % 2**31)
                  for seed in seeds]
        outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [output.outputs[0].text for output in outputs]


def first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def resolve_device(device: str) -> str:
    """``cpu`` or ``cuda``, checking that CUDA is there when asked for."""
    import torch

    if device not in ("cpu", "cuda"):
        raise SmiError(f"unknown device '{device}'; valid devices: cpu, cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise SmiError("--device cuda: no CUDA device is available (use --device cpu)")
    return device


def load_transformers_generator(model_path: str | Path, settings: ProbeSettings, batch_size: int = 64,
                                device: str = "cpu", dtype: str = "auto") -> TransformersGenerator:
    """Load a causal LM and its tokenizer from a folder (or hub id) into a :class:`TransformersGenerator`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in DTYPES:
        raise SmiError(f"unknown dtype '{dtype}'; valid dtypes: {', '.join(DTYPES)}")
    device = resolve_device(device)
    local = str(model_path).startswith(("/", ".", "~"))
    if local and not Path(model_path).expanduser().is_dir():
        raise SmiError(f"{model_path}: model folder not found")
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    try:
        source = str(Path(model_path).expanduser()) if local else str(model_path)
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
    except Exception as error:  # noqa: BLE001 - transformers raises many types; all mean "does not load"
        raise SmiError(f"{model_path}: model does not load ({type(error).__name__}: {first_line(error)})") from None
    return TransformersGenerator(model.to(device), tokenizer, settings, batch_size)


def load_generator(model_path: str | Path, settings: ProbeSettings, backend: str = "transformers", batch_size: int = 64,
                   device: str = "cpu", dtype: str = "auto") -> Generator:
    """The generator for ``backend``; vLLM only when it is installed."""
    if backend not in BACKENDS:
        raise SmiError(f"unknown backend '{backend}'; valid backends: {', '.join(BACKENDS)}")
    if backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise SmiError("--backend vllm: the vllm package is not installed (pip install vllm), or use --backend transformers")
        return VllmGenerator(str(model_path), settings, dtype)
    return load_transformers_generator(model_path, settings, batch_size, device, dtype)


# --------------------------------------------------------------------------- one fact


def fact_prompts(fact: dict, templates: list[str], settings: ProbeSettings) -> tuple[list[str], list[int]]:
    """Prompts and seeds for every (template, sample) of one fact, template-major."""
    prompts, seeds = [], []
    for template_number, template in enumerate(templates):
        prompt = fill_template(template, fact["subj"])
        for sample_number in range(settings.answers_per_template):
            prompts.append(prompt)
            seeds.append(continuation_seed(settings.seed, fact["idx"], template_number, sample_number))
    return prompts, seeds


def fact_record(fact: dict, templates: list[str], answers: list[str], settings: ProbeSettings, keep_answers: bool) -> dict:
    """The output record of one fact: release fields, ``acc``, ``n_answers`` and optionally ``answers``.

    ``answers`` is template-major (all samples of template 0, then template 1, …);
    when kept they are stored as one list per template, in the templates' order.
    """
    record = {field: _plain(fact[field]) for field in ("idx", "subj", "rel", "obj")}
    record["qus"] = fact.get("qus") if isinstance(fact.get("qus"), str) else fill_template(templates[0], fact["subj"])
    for field in release.COUNT_FIELDS:
        if field in fact and fact[field] is not None and not pd.isna(fact[field]):
            record[field] = int(fact[field])
    record["acc"] = accuracy(answers, fact["obj"], settings.match, settings.ignore_case)
    record["n_answers"] = len(answers)
    if keep_answers:
        per = settings.answers_per_template
        record["answers"] = [answers[start:start + per] for start in range(0, len(answers), per)]
    return record


def _plain(value):
    """numpy scalars as plain Python values, for JSON."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------- the resumable run


def partial_path(out_path: Path) -> Path:
    """Where a run in progress appends its records (``OUT.partial.jsonl``)."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".partial.jsonl")


def run_header(settings: ProbeSettings, model: str, templates: dict[str, list[str]], keep_answers: bool) -> dict:
    """The first line of a partial file: what must match for a run to resume it."""
    digest = hashlib.sha256(json.dumps(templates, sort_keys=True).encode()).hexdigest()[:16]
    return {"smi_probe": 1, "model": str(model), "settings": asdict(settings), "templates_sha256": digest, "keep_answers": keep_answers}


def read_partial(path: Path, header: dict) -> dict:
    """Records already written by an interrupted run, by idx; a torn last line is dropped.

    Raises :class:`SmiError` when the partial file was written with other settings.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines:
        return {}
    try:
        found = json.loads(lines[0])
    except json.JSONDecodeError:
        raise SmiError(f"{path}: line 1: not a probe header; delete the file to start afresh") from None
    if found != header:
        changed = sorted(key for key in set(found) | set(header) if found.get(key) != header.get(key))
        raise SmiError(f"{path}: an interrupted run with other settings ({', '.join(changed)}); "
                       f"rerun with the same settings or delete the file to start afresh")
    done = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # killed while writing the last line
                break
            raise SmiError(f"{path}: line {number}: invalid JSON; delete the file to start afresh") from None
        done[record["idx"]] = record
    return done


def _append_lines(path: Path, items: Iterable[dict]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_records(records: list[dict], path: Path) -> None:
    """Write a JSON list, one record per line, atomically (a temporary file renamed into place)."""
    with atomic_output(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write("[\n" + ",\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n]\n")


def probe(facts: pd.DataFrame, templates: dict[str, list[str]], generator: Generator, settings: ProbeSettings,
          out_path: Path, *, model: str = "", keep_answers: bool = False, chunk_facts: int = 8,
          progress: bool = True) -> list[dict]:
    """Probe every fact, appending records per chunk of facts so that an interrupted run resumes.

    Records go to ``OUT.partial.jsonl`` as they are done; when all facts are
    done they are written, in the facts' order, as a JSON list to ``out_path``
    and the partial file is removed. A rerun with the same settings skips the
    facts already in the partial file; because every continuation has its own
    seed, the result equals that of an uninterrupted run.
    """
    from tqdm import tqdm

    if chunk_facts < 1:
        raise SmiError(f"--chunk-facts must be at least 1 (got {chunk_facts})")
    check_templates_cover(facts, templates, Path("facts"), Path("templates"))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(out_path)
    header = run_header(settings, model, templates, keep_answers)
    done = read_partial(partial, header) if partial.is_file() else {}
    if not partial.is_file():
        _append_lines(partial, [header])
    rows = facts.to_dict("records")
    todo = [fact for fact in rows if fact["idx"] not in done]
    with tqdm(total=len(rows), initial=len(rows) - len(todo), unit="fact", desc="probe", disable=not progress) as bar:
        for start in range(0, len(todo), chunk_facts):
            chunk = todo[start:start + chunk_facts]
            prompts, seeds, spans = [], [], []
            for fact in chunk:
                fact_prompt_list, fact_seeds = fact_prompts(fact, templates[fact["rel"]], settings)
                spans.append((len(prompts), len(prompts) + len(fact_prompt_list)))
                prompts += fact_prompt_list
                seeds += fact_seeds
            answers = generator.generate(prompts, seeds)
            if len(answers) != len(prompts):
                raise SmiError(f"the generator returned {len(answers)} answers for {len(prompts)} prompts")
            records = [fact_record(fact, templates[fact["rel"]], answers[a:b], settings, keep_answers)
                       for fact, (a, b) in zip(chunk, spans)]
            _append_lines(partial, records)
            done.update((record["idx"], record) for record in records)
            bar.update(len(chunk))
    ordered = [done[fact["idx"]] for fact in rows]
    write_records(ordered, out_path)
    partial.unlink()
    return ordered


# --------------------------------------------------------------------------- reading results


def load_probe_output(path: Path) -> pd.DataFrame:
    """A probe output (ours or the release's per-model file) as a frame, with ``acc`` checked to lie in [0, 1]."""
    frame = release.records_frame(path, ("idx", "subj", "rel", "obj", "acc"))
    acc = pd.to_numeric(frame["acc"], errors="coerce")
    bad = acc.isna() | (acc < 0) | (acc > 1)
    if bad.any():
        raise SmiError(f"{path}: record {int(bad.to_numpy().nonzero()[0][0])}: field 'acc' must be in [0, 1]")
    frame["acc"] = acc
    if all(field in frame.columns for field in release.COUNT_FIELDS):
        frame["mi"] = metrics.mutual_information(frame).to_numpy()
    return frame


def template_accuracy(records: list[dict] | pd.DataFrame, templates: dict[str, list[str]],
                      match: str = "substring", ignore_case: bool = False) -> pd.DataFrame:
    """Per (fact, template) accuracy from a ``--keep-answers`` run.

    Columns: idx, rel, template_number, template, n (answers per template), acc.
    Raises when the records carry no answers.
    """
    frame = pd.DataFrame(records) if not isinstance(records, pd.DataFrame) else records
    if "answers" not in frame.columns:
        raise SmiError("these probe records have no answers; rerun `smi probe` with --keep-answers")
    rows = []
    for record in frame.itertuples(index=False):
        for number, answers in enumerate(record.answers):
            rows.append({"idx": record.idx, "rel": record.rel, "template_number": number,
                         "template": templates[record.rel][number], "n": len(answers),
                         "acc": accuracy(answers, record.obj, match, ignore_case)})
    return pd.DataFrame(rows)


def template_sensitivity(per_template: pd.DataFrame) -> pd.DataFrame:
    r"""How much the choice of template moves accuracy, per relation.

    For each relation: mean accuracy of its best and worst template (averaged
    over facts), their gap, the mean over facts of the within-fact standard
    deviation of accuracy across templates, and the part of that spread that
    sampling alone produces: a fact answered correctly with probability
    :math:`\bar p` (its mean over templates) gives per-template accuracies with
    standard deviation :math:`\sqrt{\bar p (1 - \bar p) / n}` for :math:`n`
    answers per template (``sampling_std``, averaged over facts).
    """
    by_template = per_template.groupby(["rel", "template_number"])["acc"].mean()
    per_fact = per_template.groupby(["rel", "idx"]).agg(std=("acc", lambda acc: acc.std(ddof=0)), mean=("acc", "mean"), n=("n", "mean"))
    per_fact["sampling_std"] = np.sqrt(per_fact["mean"] * (1 - per_fact["mean"]) / per_fact["n"])
    summary = pd.DataFrame({
        "best_template_acc": by_template.groupby("rel").max(),
        "worst_template_acc": by_template.groupby("rel").min(),
        "within_fact_std": per_fact["std"].groupby("rel").mean(),
        "sampling_std": per_fact["sampling_std"].groupby("rel").mean(),
    })
    summary["gap"] = summary["best_template_acc"] - summary["worst_template_acc"]
    return summary.reset_index()


def accuracy_summary(accuracies: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Mean, median and share of facts with any correct answer, grouped by ``by`` (e.g. model, rel, series)."""
    grouped = accuracies.groupby(by)["acc"]
    return pd.DataFrame({
        "facts": grouped.size(),
        "mean_acc": grouped.mean(),
        "median_acc": grouped.median(),
        "share_known": grouped.apply(lambda acc: float((acc > 0).mean())),
    }).reset_index()


# --------------------------------------------------------------------------- tiny models for tests and demos


TINY_ARCHITECTURES = ("gpt_neox", "llama")


def check_architecture(architecture: str) -> str:
    """``architecture`` if :func:`save_tiny_model` can build it, else a :class:`SmiError` listing the valid ones."""
    if architecture not in TINY_ARCHITECTURES:
        raise SmiError(f"unknown architecture '{architecture}'; valid: {', '.join(TINY_ARCHITECTURES)}")
    return architecture


def save_tiny_model(out_dir: Path, texts: Sequence[str], architecture: str = "gpt_neox", seed: int = 0,
                    hidden_size: int = 32, layers: int = 2) -> Path:
    """Write a randomly initialised causal LM and a word-level tokenizer trained on ``texts`` to ``out_dir``.

    For tests and demonstrations without a model hub: ``architecture`` is
    ``"gpt_neox"`` or ``"llama"``; the result loads with ``from_pretrained(out_dir)``.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
    word_level = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.train_from_iterator(list(texts), trainers.WordLevelTrainer(special_tokens=special))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, pad_token="[PAD]", unk_token="[UNK]",
                                        bos_token="[BOS]", eos_token="[EOS]")
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in special}
    shape = dict(vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=layers, num_attention_heads=4,
                 intermediate_size=2 * hidden_size, max_position_embeddings=256,
                 bos_token_id=ids["[BOS]"], eos_token_id=ids["[EOS]"], pad_token_id=ids["[PAD]"])
    check_architecture(architecture)
    torch.manual_seed(seed)
    if architecture == "gpt_neox":
        model = GPTNeoXForCausalLM(GPTNeoXConfig(**shape))
    else:
        model = LlamaForCausalLM(LlamaConfig(num_key_value_heads=2, **shape))
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def facts_vocabulary(facts: pd.DataFrame, templates: dict[str, list[str]]) -> list[str]:
    """Texts that cover every word of the facts and templates: a tokenizer trained on them knows every prompt."""
    texts = [fill_template(template, fact.subj) + " " + fact.obj
             for fact in facts.itertuples(index=False) for template in templates[fact.rel]]
    return texts
