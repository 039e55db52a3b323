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
import math
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
        if not self.greedy and not (self.temperature > 0 and math.isfinite(self.temperature)):
            raise SmiError(f"--temperature must be a positive finite number (got {self.temperature}); "
                           "use --greedy for argmax decoding")
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
    """Anything that continues prompts: one continuation per (prompt, seed) pair.

    A generator should also have ``fingerprint() -> dict``: everything besides the
    prompts and seeds that decides its answers (weights, tokenizer, decoding
    settings, library versions), so that :func:`probe` resumes only work done by
    the same model. Without it a resumed run is keyed on the ``model`` label only.
    """

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]: ...


def tensors_sha256(state_dict) -> str:
    """SHA-256 of a model's tensors: each name, dtype, shape and raw bytes, in name order."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)};".encode())
        flat = tensor.contiguous().reshape(-1).cpu()
        digest.update(flat.view(torch.uint8).numpy())  # hashed in place, without a copy
    return digest.hexdigest()


def tokenizer_sha256(tokenizer) -> str:
    """SHA-256 of what decides a tokenizer's ids and text: its class, its vocabulary and rules
    (the whole serialised fast tokenizer, or the vocabulary of a slow one), its special tokens and padding side."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        serialised = json.loads(backend.to_str())
        for per_call in ("padding", "truncation"):  # set by each batch call, not part of the tokenizer
            serialised.pop(per_call, None)
        rules = json.dumps(serialised, sort_keys=True)
    else:
        rules = json.dumps(sorted(tokenizer.get_vocab().items()))
    special = {name: str(value) for name, value in sorted(tokenizer.special_tokens_map.items())}
    text = json.dumps([type(tokenizer).__name__, rules, special, tokenizer.padding_side, tokenizer.pad_token_id])
    return hashlib.sha256(text.encode()).hexdigest()


def folder_sha256(folder: Path) -> str:
    """SHA-256 over every file of a folder (relative path and content hash, in path order)."""
    from smi.files import file_sha256

    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}|{file_sha256(path)};".encode())
    return digest.hexdigest()


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

    def fingerprint(self) -> dict:
        """What decides the answers besides prompts and seeds: weights (a hash of every tensor, so the
        dtype counts), config, generation defaults, tokenizer, device and library versions."""
        import torch
        import transformers

        config = self.model.config.to_dict()
        config.pop("_name_or_path", None)  # where the folder is does not change the answers
        generation = getattr(self.model, "generation_config", None)
        return {
            "backend": "transformers",
            "weights_sha256": tensors_sha256(self.model.state_dict()),
            "config_sha256": hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest(),
            "generation_config": generation.to_json_string(use_diff=False) if generation is not None else None,
            "tokenizer_sha256": tokenizer_sha256(self.tokenizer),
            "device": str(self.model.device.type),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }

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
        self.model_path, self.dtype = str(model_path), dtype
        try:
            self.llm = LLM(model=str(model_path), dtype=dtype, seed=settings.seed)
        except Exception as error:  # noqa: BLE001 - any load failure becomes one line
            raise SmiError(f"{model_path}: model does not load in vLLM ({type(error).__name__}: {first_line(error)})") from None

    def fingerprint(self) -> dict:
        """The model folder's content (for a hub id: its snapshot in the local cache), dtype and vLLM's version."""
        import vllm

        folder = Path(self.model_path).expanduser()
        if not folder.is_dir():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(self.model_path, local_files_only=True))
        return {"backend": "vllm", "model_sha256": folder_sha256(folder), "dtype": self.dtype, "vllm": vllm.__version__}

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


#: Part of every partial file's key: raise it when the probing protocol changes in a way
#: :func:`protocol_code_sha256` does not see (e.g. a change of a library's sampling).
PROBE_PROTOCOL_VERSION = 2


def protocol_code_sha256() -> str:
    """SHA-256 of the source of the code that turns a fact into its record: prompts, seeds,
    sampling, scoring (edits elsewhere in this module do not invalidate a partial file)."""
    import inspect

    parts = (fill_template, answer_contains_object, accuracy, continuation_seed, RowSeededSampler,
             TransformersGenerator._generate_batch, TransformersGenerator.generate, VllmGenerator.generate,
             fact_prompts, fact_record, _plain)
    digest = hashlib.sha256(f"probe/{PROBE_PROTOCOL_VERSION}".encode())
    for part in parts:
        digest.update(inspect.getsource(part).encode())
    return digest.hexdigest()


def generator_fingerprint(generator: Generator, model: str = "") -> dict:
    """``generator.fingerprint()`` when it has one; else its class and the ``model`` label."""
    fingerprint = getattr(generator, "fingerprint", None)
    if callable(fingerprint):
        return fingerprint()
    return {"generator": type(generator).__qualname__, "model": str(model)}


def facts_sha256(facts: pd.DataFrame) -> str:
    """SHA-256 of the facts to probe (every field and value, counts included, in order)."""
    digest = hashlib.sha256(json.dumps([[str(c) for c in facts.columns], [str(t) for t in facts.dtypes]]).encode())
    digest.update(pd.util.hash_pandas_object(facts, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def run_header(facts: pd.DataFrame, templates: dict[str, list[str]], settings: ProbeSettings, fingerprint: dict,
               keep_answers: bool) -> dict:
    """The first line of a partial file: everything its records depend on, which a run must match to resume it.

    The facts' content (with any joined counts), the templates, the model
    (:func:`generator_fingerprint`), every setting, whether answers are kept, the
    protocol version and a hash of the protocol's code.
    """
    return {
        "smi_probe": PROBE_PROTOCOL_VERSION,
        "code_sha256": protocol_code_sha256(),
        "facts_sha256": facts_sha256(facts),
        "templates_sha256": hashlib.sha256(json.dumps(templates, sort_keys=True).encode()).hexdigest(),
        "model": fingerprint,
        "settings": asdict(settings),
        "keep_answers": keep_answers,
    }


def header_name(header: dict) -> str:
    """A short hash of a header, naming a partial file set aside for it."""
    return hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()[:12]


def set_aside_path(out_path: Path, header: dict) -> Path:
    """Where a partial file written for ``header`` is kept when a run with another header starts."""
    out_path = Path(out_path)
    return out_path.with_name(f"{out_path.name}.partial-{header_name(header)}.jsonl")


PARTS_OF_HEADER = {"smi_probe": "protocol version", "code_sha256": "probing code", "facts_sha256": "facts",
                   "templates_sha256": "templates", "model": "model", "settings": "settings",
                   "keep_answers": "--keep-answers"}


def read_partial(path: Path, header: dict) -> tuple[dict | None, str]:
    """Records already written by an interrupted run, by idx, if its header equals ``header``.

    Returns ``(records, "")``, or ``(None, why)`` when the file was written for
    other inputs or cannot be read. A torn last line (a kill while writing it) is
    cut off the file, so that the next record starts on a line of its own.
    """
    path = Path(path)
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):  # killed while writing the last line
        data = data[: data.rfind(b"\n") + 1]
        with open(path, "r+b") as handle:
            handle.truncate(len(data))
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not lines:
        return None, "empty"
    try:
        found = json.loads(lines[0])
    except json.JSONDecodeError:
        return None, "line 1 is not a probe header"
    if not isinstance(found, dict):
        return None, "line 1 is not a probe header"
    if found != header:
        changed = [label for key, label in PARTS_OF_HEADER.items() if found.get(key) != header.get(key)]
        return None, f"written for other {', '.join(changed) or 'inputs'}"
    done = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return None, f"line {number} is not valid JSON"
        if not isinstance(record, dict) or "idx" not in record or "acc" not in record:
            return None, f"line {number} is not a probe record"
        done[record["idx"]] = record
    return done, ""


def start_partial(out_path: Path, header: dict, say=None) -> dict:
    """Open the partial file of a run with ``header``: the records it already holds, by idx.

    A partial file written for another header is not reused: it is renamed to
    :func:`set_aside_path` of its own header (nothing is deleted), and a partial
    file set aside earlier for ``header`` is taken back. ``say`` receives a line
    about each of these decisions (default: standard error).
    """
    import sys

    say = say or (lambda line: print(line, file=sys.stderr))
    partial = partial_path(out_path)
    if partial.is_file():
        done, why_not = read_partial(partial, header)
        if done is not None:
            say(f"resuming from {partial} ({len(done)} facts done)")
            return done
        try:
            found = json.loads(partial.read_text(encoding="utf-8", errors="replace").splitlines()[0])
        except (json.JSONDecodeError, IndexError):
            found = {"unreadable": partial.stat().st_mtime_ns}
        aside = set_aside_path(out_path, found if isinstance(found, dict) else {"unreadable": str(found)})
        os.replace(partial, aside)
        say(f"{partial}: {why_not}; kept as {aside.name}, recomputing")
    earlier = set_aside_path(out_path, header)
    if earlier.is_file():
        done, _ = read_partial(earlier, header)
        if done is not None:
            os.replace(earlier, partial)
            say(f"resuming from {earlier.name}, set aside earlier for these inputs ({len(done)} facts done)")
            return done
    with atomic_output(partial) as temporary:
        _append_lines(temporary, [header])
    return {}


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
          progress: bool = True, say=None) -> list[dict]:
    """Probe every fact, appending records per chunk of facts so that an interrupted run resumes.

    Records go to ``OUT.partial.jsonl`` as they are done; when all facts are
    done they are written, in the facts' order, as a JSON list to ``out_path``
    and the partial file is removed. The partial file's first line is
    :func:`run_header`, a key of everything the records depend on (facts,
    templates, model, settings, code); a rerun with the same key skips the facts
    already done, and because every continuation has its own seed, the result
    equals that of an uninterrupted run. A partial file with another key is set
    aside, never reused (:func:`start_partial`); ``say`` receives that news.
    """
    from tqdm import tqdm

    from smi.files import check_writable

    if chunk_facts < 1:
        raise SmiError(f"--chunk-facts must be at least 1 (got {chunk_facts})")
    check_templates_cover(facts, templates, Path("facts"), Path("templates"))
    out_path = check_writable(Path(out_path))
    partial = partial_path(out_path)
    header = run_header(facts, templates, settings, generator_fingerprint(generator, model), keep_answers)
    done = start_partial(out_path, header, say)
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
    partial.unlink(missing_ok=True)
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
