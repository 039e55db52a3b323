"""Rebuild the probe facts and their prompt templates from ParaRel's T-REx data.

The paper ships its 12,671 probe facts without the code that made them. This
package reads ParaRel's facts and paraphrase patterns for the paper's 15 relation
classes (17 Wikidata relations), keeps the facts' own direction, and, with the
release's filter, drops the same ambiguous facts as the released set.

The package holds one idea per module:

* :mod:`smi.triples.pararel`    reading ParaRel: its files, the class → relation mapping, facts and patterns;
* :mod:`smi.triples.templates`  prompt templates: the patterns whose object slot comes last;
* :mod:`smi.triples.filters`    the release's selection: ambiguous prompts and ambiguous pairs dropped;
* :mod:`smi.triples.build`      the probe set: facts read, repeats removed, optionally filtered, numbered;
* :mod:`smi.triples.compare`    comparison with the release: shared facts and templates;
* :mod:`smi.triples.writers`    writing: tables as CSV or Parquet, templates as JSON.

Their public names are importable from :mod:`smi.triples`. JSON-lines files are
read by :func:`smi.records.read_json_lines`; sentence-level evidence for the
facts is in :mod:`smi.sentences`.
"""

from __future__ import annotations

from smi.triples.build import TRIPLE_COLUMNS, BuildReport, build_probe_set, read_trex_facts
from smi.triples.compare import compare_templates, compare_with_release, unmatched_facts
from smi.triples.filters import (
    RELEASE_PID_ORDER,
    apply_release_filter,
    drop_ambiguous_pairs,
    drop_ambiguous_prompts,
    release_filter_labels,
)
from smi.triples.pararel import (
    PARAREL_FIELDS,
    PATTERN_FIELDS,
    PID_FORMAT,
    REGION_FIRST_CAPITAL,
    RELATION_CLASSES,
    available_pids,
    check_mapping,
    load_patterns,
    load_trex,
    mapping_table,
    patterns_path,
    read_mapping,
    trex_path,
)
from smi.triples.templates import (
    object_last_prefix,
    prompt_templates,
    query_prompts,
    relation_patterns,
    swap_slots,
)
from smi.triples.writers import check_table_output, write_table, write_templates

__all__ = [
    "PARAREL_FIELDS",
    "PATTERN_FIELDS",
    "PID_FORMAT",
    "REGION_FIRST_CAPITAL",
    "RELATION_CLASSES",
    "RELEASE_PID_ORDER",
    "TRIPLE_COLUMNS",
    "BuildReport",
    "apply_release_filter",
    "available_pids",
    "build_probe_set",
    "check_mapping",
    "check_table_output",
    "compare_templates",
    "compare_with_release",
    "drop_ambiguous_pairs",
    "drop_ambiguous_prompts",
    "load_patterns",
    "load_trex",
    "mapping_table",
    "object_last_prefix",
    "patterns_path",
    "prompt_templates",
    "query_prompts",
    "read_mapping",
    "read_trex_facts",
    "relation_patterns",
    "release_filter_labels",
    "swap_slots",
    "trex_path",
    "unmatched_facts",
    "write_table",
    "write_templates",
]
