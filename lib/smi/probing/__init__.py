r"""Knowledge probing: measure how much of each fact a causal language model knows.

The protocol follows the SMI paper's multi-template sampled question answering.
For a fact :math:`(s, r, o)` and the :math:`T` prompt templates of relation
:math:`r` (each holding the placeholder ``[S]``), the model continues every
prompt ``template.replace("[S]", s)`` :math:`K` times by sampling at
temperature :math:`\tau` (0.7 by default). The fact's accuracy is the share of
all :math:`T \cdot K` continuations that contain the object:

.. math::

    \mathrm{acc}(s, r, o) = \frac{1}{T K} \sum_{t=1}^{T} \sum_{k=1}^{K}
        \mathbb{1}\left[o \text{ occurs in } a_{t,k}\right]

"Occurs in" is the paper's plain substring rule, ``match="paper"`` (``"Paris" in answer``), so an
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

One idea per module:

* :mod:`smi.probing.protocol`  one fact: settings, prompts, per-continuation seeds, scoring, its record;
* :mod:`smi.probing.inputs`    the facts, templates and counts to probe;
* :mod:`smi.probing.backends`  generation backends (transformers, vLLM), loading, device, fingerprints;
* :mod:`smi.probing.run`       the resumable run and its partial-file key;
* :mod:`smi.probing.ranking`   the ranking protocol (``smi probe --protocol rank``): every candidate object
  scored by its log-likelihood, rank-1 accuracy and the true object's probability;
* :mod:`smi.probing.analysis`  reading outputs: per-template accuracy, template sensitivity, summaries.

Every public name is re-exported here, so ``from smi import probing; probing.probe(...)`` works.
"""

from smi.probing.analysis import accuracy_summary, load_probe_output, template_accuracy, template_sensitivity
from smi.probing.backends import (
    DEVICES,
    Generator,
    RowSeededSampler,
    TransformersGenerator,
    VllmGenerator,
    first_line,
    folder_sha256,
    generator_fingerprint,
    load_generator,
    load_transformers_generator,
    resolve_device,
    tensors_sha256,
    tokenizer_sha256,
)
from smi.probing.inputs import attach_counts, check_templates_cover, load_counts, load_probe_facts
from smi.probing.protocol import (
    PLACEHOLDER,
    ProbeSettings,
    accuracy,
    answer_contains_object,
    continuation_seed,
    fact_prompts,
    fact_record,
    fill_template,
)
from smi.probing.run import (
    OUTPUT_FIELDS,
    PARTS_OF_HEADER,
    header_name,
    partial_path,
    probe,
    protocol_code_sha256,
    read_partial,
    run_header,
    set_aside_path,
    start_partial,
    write_records,
)

__all__ = [
    "DEVICES",
    "OUTPUT_FIELDS",
    "PARTS_OF_HEADER",
    "PLACEHOLDER",
    "Generator",
    "ProbeSettings",
    "RowSeededSampler",
    "TransformersGenerator",
    "VllmGenerator",
    "accuracy",
    "accuracy_summary",
    "answer_contains_object",
    "attach_counts",
    "check_templates_cover",
    "continuation_seed",
    "fact_prompts",
    "fact_record",
    "fill_template",
    "first_line",
    "folder_sha256",
    "generator_fingerprint",
    "header_name",
    "load_counts",
    "load_generator",
    "load_probe_facts",
    "load_probe_output",
    "load_transformers_generator",
    "partial_path",
    "probe",
    "protocol_code_sha256",
    "read_partial",
    "resolve_device",
    "run_header",
    "set_aside_path",
    "start_partial",
    "template_accuracy",
    "template_sensitivity",
    "tensors_sha256",
    "tokenizer_sha256",
    "write_records",
]
