r"""The one place that builds a lab model: its size, its network over a corpus's tokenizer, its parameter count.

A size (:class:`ModelSize`, one of :data:`SIZES`) is a GPT-NeoX shape: hidden width and layers,
with 4 attention heads, a feed-forward layer twice as wide and 256 positions, and the peak learning
rate used unless one is given (:func:`width_scaled_learning_rate` of the width). :func:`initial_model`
trains the lab tokenizer on a corpus (:func:`smi.lab.tokenizer.train_lab_tokenizer`) and draws the
network of a size over its vocabulary; training (:mod:`smi.lab.train`) starts from it, saved by
:func:`save_initial_model`, and a run knows a model's parameter count before training it
(:func:`planned_parameters`: the vocabulary, and so the embeddings, depend on the corpus).

Light to import: torch and transformers are imported by the functions that use them, so the sizes
can be checked where ``smi --help`` is built (:mod:`smi.lab.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smi.errors import check_one_of

#: The learning-rate rule's peak rate and the width up to which it holds (:func:`width_scaled_learning_rate`).
BASE_LEARNING_RATE = 1e-2
BASE_WIDTH = 64
#: Attention heads of every size, and the most tokens a model reads at once.
ATTENTION_HEADS = 4
MAX_POSITIONS = 256


def width_scaled_learning_rate(hidden: int) -> float:
    r"""The peak learning rate of a model ``hidden`` wide: one rule for every size.

    Parameters
    ----------
    hidden : int
        The model's width.

    Returns
    -------
    float
        The rate.

    Notes
    -----
    :math:`\eta(h) = \eta_0 \min(1, h_0 / h)` with :math:`\eta_0` = :data:`BASE_LEARNING_RATE` and
    :math:`h_0` = :data:`BASE_WIDTH`: the step of a weight matrix shrinks as its fan-in grows
    (as in muP-style width scaling), and narrow models keep :math:`\eta_0`.
    """
    return BASE_LEARNING_RATE * min(1.0, BASE_WIDTH / hidden)


@dataclass(frozen=True)
class ModelSize:
    """A GPT-NeoX shape: hidden width and layers (module docstring), and the peak learning rate used
    unless one is given, :func:`width_scaled_learning_rate` of the width for every size.
    """

    name: str
    hidden: int
    layers: int
    learning_rate: float


#: The sizes, smallest first. Parameters also depend on the corpus's vocabulary.
SIZES: dict[str, ModelSize] = {
    size.name: size
    for size in (
        ModelSize("xs", 16, 1, width_scaled_learning_rate(16)),
        ModelSize("s", 32, 2, width_scaled_learning_rate(32)),
        ModelSize("m", 64, 2, width_scaled_learning_rate(64)),
        ModelSize("l", 128, 4, width_scaled_learning_rate(128)),
        ModelSize("xl", 256, 4, width_scaled_learning_rate(256)),
        ModelSize("xxl", 512, 6, width_scaled_learning_rate(512)),
    )
}


def model_size(name: str) -> ModelSize:
    """The :class:`ModelSize` called ``name``; a :class:`SmiError` lists the valid names.

    Parameters
    ----------
    name : str
        A size name of :data:`SIZES`.

    Returns
    -------
    ModelSize
        The size.

    Raises
    ------
    SmiError
        When the name is unknown.
    """
    return SIZES[check_one_of(name, SIZES, "size")]


def smallest_first(names) -> tuple[str, ...]:
    """Size names in the order of :data:`SIZES`, smallest first (the last is the largest).

    Parameters
    ----------
    names : iterable of str
        Size names of :data:`SIZES`.

    Returns
    -------
    tuple of str
        The names, sorted.

    Raises
    ------
    SmiError
        When a name is unknown.
    """
    order = list(SIZES)
    return tuple(sorted(names, key=lambda name: order.index(model_size(name).name)))


def initial_model(corpus_dir: Path, size: ModelSize, seed: int):
    """The lab tokenizer trained on the corpus in ``corpus_dir`` and a randomly initialised GPT-NeoX of ``size``.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder (its documents and its facts' subjects make the tokenizer).
    size : ModelSize
        The model's shape.
    seed : int
        Seed of the initial weights.

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerFast
        :func:`smi.lab.tokenizer.train_lab_tokenizer` of the corpus.
    network : transformers.GPTNeoXForCausalLM
        The untrained model.

    Notes
    -----
    The network is :func:`random_network` over the tokenizer's vocabulary. The tokenizer depends on
    the corpus only, so every size and seed of one corpus shares it.
    """
    from smi import formats
    from smi.lab import corpus as lab_corpus
    from smi.lab import tokenizer as lab_tokenizer

    texts = lab_corpus.corpus_documents(corpus_dir)
    subjects = formats.read_facts(Path(corpus_dir) / "facts.json").subj
    tokenizer = lab_tokenizer.train_lab_tokenizer(texts, subjects)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in lab_tokenizer.SPECIAL_TOKENS}
    network = random_network(len(tokenizer), size.hidden, size.layers, seed, ids["[BOS]"], ids["[EOS]"], ids["[PAD]"])
    return tokenizer, network


def random_network(vocabulary: int, hidden: int, layers: int, seed: int, bos: int, eos: int, pad: int):
    """A randomly initialised GPT-NeoX of the lab's shape: the one place a lab network is drawn.

    Parameters
    ----------
    vocabulary : int
        Tokens of the vocabulary (rows of the embeddings).
    hidden, layers : int
        Width and depth; 4 attention heads, a feed-forward layer ``2 · hidden`` wide, 256 positions.
    seed : int
        Seed of the initial weights (``torch.manual_seed``, then transformers' initialisation).
    bos, eos, pad : int
        Token ids of the beginning, end and padding tokens.

    Returns
    -------
    transformers.GPTNeoXForCausalLM
        The untrained network, on the CPU.
    """
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    config = GPTNeoXConfig(
        vocab_size=vocabulary,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=ATTENTION_HEADS,
        intermediate_size=2 * hidden,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    torch.manual_seed(seed)
    return GPTNeoXForCausalLM(config)


def save_initial_model(corpus_dir: Path, out_dir: Path, size: ModelSize, seed: int) -> Path:
    """:func:`initial_model` saved as a Hugging Face folder ``out_dir`` (what training starts from).

    Parameters
    ----------
    corpus_dir : Path
        The lab folder.
    out_dir : Path
        The model folder (created).
    size : ModelSize
        The model's shape.
    seed : int
        Seed of the initial weights.

    Returns
    -------
    Path
        ``out_dir``.
    """
    tokenizer, network = initial_model(corpus_dir, size, seed)
    out_dir = Path(out_dir)
    network.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def planned_parameters(corpus_dir: Path, size_name: str, seed: int) -> int:
    """Parameters the model of ``size_name`` will have on this corpus, known before training.

    Parameters
    ----------
    corpus_dir : Path
        The lab folder (its vocabulary sets the embeddings).
    size_name : str
        The model size's name.
    seed : int
        Seed of the initial model.

    Returns
    -------
    int
        The parameter count (:func:`parameter_count` of :func:`initial_model`).
    """
    return parameter_count(initial_model(corpus_dir, model_size(size_name), seed)[1])


def parameter_count(network) -> int:
    """Number of parameters of a torch model (every weight and bias, embeddings included).

    Parameters
    ----------
    network : torch.nn.Module
        The model.

    Returns
    -------
    int
        The count.
    """
    return int(sum(p.numel() for p in network.parameters()))


def quiet_transformers() -> None:
    """No progress bars or advice from transformers while models are saved and loaded (notebooks, no progress)."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
