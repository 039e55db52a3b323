"""The one reader of each file format the project reads, with the checks the format needs.

==================  ================================================  ==========================
format              files                                             reader
==================  ================================================  ==========================
facts               the release's ``search/pararel_15classes.json``;  :func:`read_facts` (plain
                    ``smi triples build`` output (.csv, .parquet)      columns), :func:`load_facts`
corpus counts       the release's ``search/<corpus>/merge.json``;     :func:`read_counts`
                    ``smi count`` output (.json, .csv, .parquet);
                    JSON lines
per-model outputs   the release's ``infer/merge_outputs/<m>.json``;   :func:`read_model_output`
                    ``smi probe`` output
models table        ``smi/resources/models.csv`` or any such CSV      :func:`load_models`
==================  ================================================  ==========================

Every reader checks its file once, on the way in, and stops at the first
problem with a one-line :class:`~smi.errors.SmiError` naming the file and the
record (JSON list, from 0), line (JSON lines and CSV, the header being line 1)
or row (Parquet, from 1) and the field:

* facts: an idx in every row, unique, where an integer and a string of its
  digits are the same idx (``1``, ``"1"`` and ``"01"`` are one key, see
  :func:`idx_key`); subject, relation and object non-empty strings, without NUL
  characters, that can be written as UTF-8 (a lone surrogate, which JSON's
  ``"\\ud800"`` escape can produce, cannot);
* counts: every ``time_*`` field a finite, non-negative integer, with
  :math:`n_{so} \\le \\min(n_s, n_o)` and :math:`\\max(n_s, n_o) \\le N`
  (``time_s1j1 <= min(time_subj, time_obj)``, ``max(time_subj, time_obj) <= time_seqs``),
  :math:`N > 0` and one :math:`N` per file (a counts file describes one corpus);
  the facts' checks too, so no idx twice;
* per-model outputs: the facts' and the counts' checks, and an accuracy ``acc``
  that is a finite number in [0, 1];
* models table: the columns name, series, parameters, corpus; at least one
  model; unique, non-empty names; a parameter count that is a raw count, finite
  and at least :data:`MIN_PARAMETERS` (:func:`check_parameters`).

One module per format: :mod:`~smi.formats.facts`, :mod:`~smi.formats.counts` (with the per-model
outputs), :mod:`~smi.formats.models`, on :mod:`~smi.formats.rows` (naming rows, reading tables).
They import pandas only inside the functions that need it, so that ``smi count`` reads the
release's JSON facts without loading pandas.
"""

from __future__ import annotations

from smi.formats.counts import (
    CORE_COUNT_FIELDS,
    MAX_COUNT,
    check_accuracy,
    check_count_columns,
    check_document_count,
    read_counts,
    read_model_output,
    require_cooccurrence,
)
from smi.formats.facts import (
    Facts,
    as_facts,
    check_facts,
    check_idx,
    check_names,
    first_unencodable,
    idx_key,
    load_facts,
    read_facts,
)
from smi.formats.models import (
    BILLIONS_HINT,
    MAX_PARAMETERS,
    MIN_PARAMETERS,
    MODEL_FIELDS,
    check_parameters,
    check_tokens,
    load_models,
    parameter_problem,
    token_problem,
)
from smi.formats.rows import (
    NUL,
    ROW_SUFFIXES,
    TABLE_SUFFIXES,
    Rows,
    Where,
    shown,
)

__all__ = [
    "BILLIONS_HINT",
    "CORE_COUNT_FIELDS",
    "MAX_COUNT",
    "MAX_PARAMETERS",
    "MIN_PARAMETERS",
    "MODEL_FIELDS",
    "NUL",
    "ROW_SUFFIXES",
    "TABLE_SUFFIXES",
    "Facts",
    "Rows",
    "Where",
    "as_facts",
    "check_accuracy",
    "check_count_columns",
    "check_document_count",
    "check_facts",
    "check_idx",
    "check_names",
    "check_parameters",
    "check_tokens",
    "first_unencodable",
    "idx_key",
    "load_facts",
    "load_models",
    "parameter_problem",
    "read_counts",
    "read_facts",
    "read_model_output",
    "require_cooccurrence",
    "shown",
    "token_problem",
]
