r"""Generation backends: what continues prompts (Hugging Face transformers or vLLM), how it loads, and its fingerprint.

A backend answers ``generate(prompts, seeds)`` with one continuation per pair. Sampling is
seeded per continuation, not per batch (Gumbel-max, :class:`RowSeededSampler`), so the answers do
not depend on the batch size or on which prompts share a batch. The parts that decide the answers
are hashed into a probe's partial-file key by :func:`smi.probing.run.protocol_code_sha256`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from smi.choices import BACKENDS, DTYPES
from smi.errors import SmiError, check_one_of, check_scalar
from smi.hashing import json_sha256, text_sha256
from smi.probing.protocol import ProbeSettings

#: Where a model can run.
DEVICES = ("cpu", "cuda")


class Generator(Protocol):
    """Anything that continues prompts: one continuation per (prompt, seed) pair.

    A generator should also have ``fingerprint() -> dict``: everything besides the
    prompts and seeds that decides its answers (weights, tokenizer, decoding
    settings, library versions), so that :func:`smi.probing.probe` resumes only work done by
    the same model. Without it a resumed run is keyed on the ``model`` label only.
    """

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """One continuation per prompt, the i-th drawn with ``seeds[i]``."""
        ...


def tensors_sha256(state_dict) -> str:
    """SHA-256 of a model's tensors: each name, dtype, shape and raw bytes, in name order.

    Parameters
    ----------
    state_dict : mapping of str to torch.Tensor
        A model's ``state_dict()``.

    Returns
    -------
    str
        The hex digest.
    """
    import torch

    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)};".encode())
        flat = tensor.contiguous().reshape(-1).cpu()
        digest.update(flat.view(torch.uint8).numpy())  # hashed in place, without a copy
    return digest.hexdigest()


def tokenizer_sha256(tokenizer) -> str:
    """SHA-256 of what decides a tokenizer's ids and text.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        The tokenizer.

    Returns
    -------
    str
        The hex digest of its class, its vocabulary and rules (the whole serialised fast
        tokenizer, or the vocabulary of a slow one), its special tokens and padding side.
    """
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
    return text_sha256(text)


def folder_sha256(folder: Path) -> str:
    """SHA-256 over every file of a folder.

    Parameters
    ----------
    folder : Path
        The folder, e.g. a saved model.

    Returns
    -------
    str
        The hex digest of each file's relative path and content hash, in path order.
    """
    from smi.hashing import file_sha256

    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}|{file_sha256(path)};".encode())
    return digest.hexdigest()


class RowSeededSampler:
    r"""A logits processor that turns greedy decoding into seeded temperature sampling, row by row.

    Parameters
    ----------
    seeds : sequence of int
        One seed per row of the batch.
    temperature : float
        The sampling temperature :math:`\tau`.
    device : str or torch.device
        Where the rows' generators draw.

    Notes
    -----
    Gumbel-max trick: with :math:`g_v = -\log(-\log u_v)`, :math:`u_v \sim U(0,1)`,
    :math:`\arg\max_v (z_v/\tau + g_v)` is a draw from :math:`\mathrm{softmax}(z/\tau)`.
    Each row draws its :math:`u` from its own ``torch.Generator``, so a row's
    tokens do not depend on its neighbours in the batch.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, device) -> None:
        import torch

        self.temperature = temperature
        self.generators = [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]

    def __call__(self, input_ids, scores):
        """The scores divided by the temperature plus each row's own Gumbel noise."""
        import torch

        vocab = scores.shape[-1]
        uniform = torch.stack([torch.rand(vocab, generator=g, device=scores.device) for g in self.generators])
        tiny = torch.finfo(uniform.dtype).tiny
        exponential = (-torch.log(uniform.clamp(min=tiny))).clamp(min=tiny)
        gumbel = -torch.log(exponential)
        return scores.float() / self.temperature + gumbel


class TransformersGenerator:
    """Batched generation with a Hugging Face causal LM, left padding and per-row seeds.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A causal LM.
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer; set to left padding, with the end-of-sequence token as pad when it has none.
    settings : ProbeSettings
        Decoding settings (greedy, temperature, tokens per answer).
    batch_size : int
        Sequences generated together, at least 1.

    Raises
    ------
    SmiError
        When ``batch_size`` is below 1 or the tokenizer has neither a pad nor an end-of-sequence token.
    """

    def __init__(self, model, tokenizer, settings: ProbeSettings, batch_size: int = 64) -> None:
        check_scalar(batch_size, "batch_size", "integer", minimum=1)
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
        """What decides the answers besides prompts and seeds.

        Returns
        -------
        dict
            Weights (a hash of every tensor, so the dtype counts), config, generation defaults,
            tokenizer, device and library versions.
        """
        import torch
        import transformers

        config = self.model.config.to_dict()
        config.pop("_name_or_path", None)  # where the folder is does not change the answers
        generation = getattr(self.model, "generation_config", None)
        return {
            "backend": "transformers",
            "weights_sha256": tensors_sha256(self.model.state_dict()),
            "config_sha256": json_sha256(config),
            "generation_config": generation.to_json_string(use_diff=False) if generation is not None else None,
            "tokenizer_sha256": tokenizer_sha256(self.tokenizer),
            "device": str(self.model.device.type),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """One continuation per prompt; prompts of similar length share a batch.

        Parameters
        ----------
        prompts : sequence of str
            The prompts.
        seeds : sequence of int
            One seed per prompt.

        Returns
        -------
        list of str
            The continuations without their prompts, in the prompts' order.
        """
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        answers: list[str] = [""] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = self._generate_batch([prompts[i] for i in rows], [seeds[i] for i in rows])
            for row, answer in zip(rows, batch, strict=True):
                answers[row] = answer
        return answers

    def _generate_batch(self, prompts: list[str], seeds: list[int]) -> list[str]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.model.device)
        inputs.pop("token_type_ids", None)
        config = GenerationConfig(
            max_new_tokens=self.settings.max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        processors = LogitsProcessorList()
        if not self.settings.greedy:
            processors.append(RowSeededSampler(seeds, self.settings.temperature, self.model.device))
        with torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=config, logits_processor=processors)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)


class VllmGenerator:
    """Generation through vLLM (only when the ``vllm`` package is installed); one seeded request per row.

    Parameters
    ----------
    model_path : str
        A model folder or hub id.
    settings : ProbeSettings
        Decoding settings.
    dtype : str
        The weights' dtype, as vLLM names it.

    Raises
    ------
    SmiError
        When vLLM cannot load the model.
    """

    def __init__(self, model_path: str, settings: ProbeSettings, dtype: str = "auto") -> None:
        from vllm import LLM  # imported here: vllm is optional

        self.settings = settings
        self.model_path, self.dtype = str(model_path), dtype
        try:
            self.llm = LLM(model=str(model_path), dtype=dtype, seed=settings.seed)
        except Exception as error:  # any load failure becomes one line
            raise SmiError(
                f"{model_path}: model does not load in vLLM ({type(error).__name__}: {first_line(error)})"
            ) from None

    def fingerprint(self) -> dict:
        """The model folder's content (for a hub id: its snapshot in the local cache), dtype and vLLM's version."""
        import vllm

        folder = Path(self.model_path).expanduser()
        if not folder.is_dir():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(self.model_path, local_files_only=True))
        return {"backend": "vllm", "model_sha256": folder_sha256(folder), "dtype": self.dtype, "vllm": vllm.__version__}

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[str]:
        """One continuation per prompt, each request seeded with its own seed (modulo :math:`2^{31}`)."""
        from vllm import SamplingParams

        temperature = 0.0 if self.settings.greedy else self.settings.temperature
        params = [
            SamplingParams(
                n=1, temperature=temperature, max_tokens=self.settings.max_new_tokens, seed=int(seed) % 2**31
            )
            for seed in seeds
        ]
        outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [output.outputs[0].text for output in outputs]


def first_line(error: BaseException) -> str:
    """The first non-empty line of an exception's message (``"no message"`` when it has none).

    Parameters
    ----------
    error : BaseException
        The exception.

    Returns
    -------
    str
        The line.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def resolve_device(device: str) -> str:
    """Check where a model is to run.

    Parameters
    ----------
    device : {"cpu", "cuda"}
        The device asked for.

    Returns
    -------
    str
        ``device`` itself.

    Raises
    ------
    SmiError
        When ``device`` is unknown, or is ``cuda`` and no CUDA device is available.
    """
    import torch

    check_one_of(device, DEVICES, "device")
    if device == "cuda" and not torch.cuda.is_available():
        raise SmiError("--device cuda: no CUDA device is available (use --device cpu)")
    return device


def load_transformers_generator(
    model_path: str | Path, settings: ProbeSettings, batch_size: int = 64, device: str = "cpu", dtype: str = "auto"
) -> TransformersGenerator:
    """Load a causal LM and its tokenizer into a :class:`TransformersGenerator`.

    Parameters
    ----------
    model_path : str or Path
        A model folder (a path starting with ``/``, ``.`` or ``~``) or a hub id.
    settings : ProbeSettings
        Decoding settings.
    batch_size : int
        Sequences generated together.
    device : {"cpu", "cuda"}
        Where the model runs.
    dtype : {"auto", "float32", "float16", "bfloat16"}
        The weights' dtype; ``"auto"`` keeps the saved one.

    Returns
    -------
    TransformersGenerator
        The loaded generator.

    Raises
    ------
    SmiError
        When ``dtype`` or ``device`` is unknown, the folder is missing or the model does not load.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_one_of(dtype, DTYPES, "dtype")
    device = resolve_device(device)
    local = str(model_path).startswith(("/", ".", "~"))
    if local and not Path(model_path).expanduser().is_dir():
        raise SmiError(f"{model_path}: model folder not found")
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    try:
        source = str(Path(model_path).expanduser()) if local else str(model_path)
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype)
    except Exception as error:  # transformers raises many types; all mean "does not load"
        raise SmiError(f"{model_path}: model does not load ({type(error).__name__}: {first_line(error)})") from None
    return TransformersGenerator(model.to(device), tokenizer, settings, batch_size)


def load_generator(
    model_path: str | Path,
    settings: ProbeSettings,
    backend: str = "transformers",
    batch_size: int = 64,
    device: str = "cpu",
    dtype: str = "auto",
) -> Generator:
    """The generator for ``backend``.

    Parameters
    ----------
    model_path : str or Path
        A model folder or hub id.
    settings : ProbeSettings
        Decoding settings.
    backend : {"transformers", "vllm"}
        Which library generates; vLLM only when it is installed.
    batch_size, device, dtype
        As for :func:`load_transformers_generator` (``batch_size`` and ``device`` unused by vLLM).

    Returns
    -------
    Generator
        The loaded generator.

    Raises
    ------
    SmiError
        When ``backend`` is unknown, vLLM is asked for but not installed, or the model does not load.
    """
    check_one_of(backend, BACKENDS, "backend")
    if backend == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise SmiError(
                "--backend vllm: the vllm package is not installed (pip install vllm), or use --backend transformers"
            )
        return VllmGenerator(str(model_path), settings, dtype)
    return load_transformers_generator(model_path, settings, batch_size, device, dtype)


def generator_fingerprint(generator: Generator, model: str = "") -> dict:
    """What decides a generator's answers, for a probe's partial-file key.

    Parameters
    ----------
    generator : Generator
        The generator.
    model : str
        A label for the model, used when the generator has no ``fingerprint()``.

    Returns
    -------
    dict
        ``generator.fingerprint()`` when it has one; else its class and the ``model`` label.
    """
    fingerprint = getattr(generator, "fingerprint", None)
    if callable(fingerprint):
        return fingerprint()
    return {"generator": type(generator).__qualname__, "model": str(model)}
