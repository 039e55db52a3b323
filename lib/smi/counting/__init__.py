r"""Document counts of each fact's subject and object over a text corpus.

For a fact :math:`(s, r, o)` and a corpus of :math:`N` documents, the paper's
statistics are document counts:

* :math:`n_s` (``time_subj``): documents that contain the subject,
* :math:`n_o` (``time_obj``): documents that contain the object,
* :math:`n_{so}` (``time_s1j1``): documents that contain both,

and the rest of the 2×2 table, :math:`n_{s\bar o} = n_s - n_{so}` (``time_s1j0``),
:math:`n_{\bar s o} = n_o - n_{so}` (``time_s0j1``) and
:math:`n_{\bar s\bar o} = N - n_s - n_o + n_{so}` (``time_s0j0``), with
:math:`N` = ``time_seqs``.

"Contains" has two meanings (``match``):

* ``"paper"`` (the release's rule): ``" " + name`` occurs in the document as a
  case-sensitive substring. There is no right boundary (``" Paris"`` is found in
  ``"a Parisian"``), and a name at the very start of a document is not found,
  because no space precedes it.
* ``"word"``: ``name`` occurs with no word character (letter, digit or ``_``)
  directly before or after it; the start and end of a document count as
  boundaries.

The engine never tests facts one by one. The distinct subject and object strings
go into one matcher (:mod:`smi.matchers`: a Hyperscan database or a pyahocorasick
automaton, chosen by ``engine``; both give the same matches); a block of many
documents is joined with a separator that no name contains and scanned in one pass;
each match position is mapped back to its document with a binary search over the
document offsets. What does not depend on the documents (the matcher, the facts
grouped by subject) is prepared once per run and process (:class:`NameScan`).
The (document, string) pairs form a sparse 0/1 *presence matrix* :math:`X`, and

.. math::

    n_s = \sum_d X_{d s}, \qquad n_{so} = \sum_d X_{d s} X_{d o},

so only the documents in which a name was found cost anything beyond the scan.
Memory is bounded by the block size, whatever the corpus size.

:func:`count_corpus` runs this over shards of a corpus (see :mod:`smi.corpus_io`),
serially, on forked processes or on a Dask cluster, and keeps each finished
shard's partial counts in a work folder so that an interrupted run resumes where
it stopped. A saved result is keyed on everything that determines it
(:func:`shard_key`: the code's version, the names, the settings, the file's
status and byte range) and checked when read back; anything else is counted
again. :func:`write_counts` writes the table and its metadata, which records the
table's SHA-256, as one pair.

The package holds one idea per module:

* :mod:`smi.counting.engine`  the scan of blocks of documents, the counts, the naive reference;
* :mod:`smi.counting.shards`  shard results saved under a key, and the work folder;
* :mod:`smi.counting.runner`  counting a corpus serially, on forked processes or on Dask;
* :mod:`smi.counting.output`  output checks, the lock, the table and its metadata.

Every name is importable from :mod:`smi.counting` as before.
"""

from __future__ import annotations

from smi.counting.engine import (
    _BATCH_DOCUMENTS,
    _SCANS,
    DEFAULT_BLOCK_CHARS,
    Counts,
    FactStrings,
    NameScan,
    _facts_by_subject,
    _sorted_unique,
    cached_automaton,
    count_block,
    count_columns,
    count_texts,
    counts_table,
    fact_strings,
    naive_counts,
    note,
    prepared_scan,
)
from smi.counting.output import (
    OUTPUT_SUFFIXES,
    _interrupts_deferred,
    _json_text,
    _metadata_bytes,
    _write_csv,
    _write_json,
    _write_table,
    check_output_path,
    check_output_writable,
    default_work_dir,
    estimated_output_bytes,
    metadata_path,
    output_lock,
    remove_orphaned_output_temporaries,
    write_counts,
)
from smi.counting.runner import (
    _DASK_NO_WORKER_SECONDS,
    _DASK_POLL_SECONDS,
    _FORKED_JOB,
    _PR_SET_PDEATHSIG,
    CountRun,
    _close_quietly,
    _count_shard_in_fork,
    _death_of,
    _exit_when_orphaned,
    _is_cluster_loss,
    _progress_bar,
    _run_on_dask,
    _run_on_processes,
    _run_serially,
    _set_parent_death_signal,
    _SilentBar,
    _start_forked_child,
    _stop_pool,
    check_scheduler_address,
    choose_engine,
    count_corpus,
    facts_sha256,
)
from smi.counting.shards import (
    _SHARD_ARRAYS,
    SHARD_FORMAT,
    SHARD_TEMPORARY,
    CountSettings,
    ShardResult,
    _open_folder,
    check_free_space,
    clean_work_dir,
    count_shard,
    engine_version,
    load_shard_result,
    prepare_work_dir,
    remove_orphaned_temporaries,
    reuse_shard_result,
    save_shard_result,
    shard_key,
    shard_result_path,
    work_dir_in_use,
)
from smi.files import _lock_holder, _same_file, lock_path

# The facts are read and checked by their one reader, smi.formats; the old names stay importable here.
from smi.formats import Facts, as_facts, check_facts, check_names, load_triples, read_fact_table
from smi.formats import read_facts as read_triples
from smi.matchers import (  # importable from here, as before
    ENGINES,
    MATCH_MODES,
    SEPARATOR,
    build_automaton,
    find_names,
    is_word_character,
    search_patterns,
)
from smi.records import COUNT_FIELDS, FACT_FIELDS

__all__ = [
    "COUNT_FIELDS",
    "DEFAULT_BLOCK_CHARS",
    "ENGINES",
    "FACT_FIELDS",
    "MATCH_MODES",
    "OUTPUT_SUFFIXES",
    "SEPARATOR",
    "SHARD_FORMAT",
    "SHARD_TEMPORARY",
    "_BATCH_DOCUMENTS",
    "_DASK_NO_WORKER_SECONDS",
    "_DASK_POLL_SECONDS",
    "_FORKED_JOB",
    "_PR_SET_PDEATHSIG",
    "_SCANS",
    "_SHARD_ARRAYS",
    "CountRun",
    "CountSettings",
    "Counts",
    "FactStrings",
    "Facts",
    "NameScan",
    "ShardResult",
    "_SilentBar",
    "_close_quietly",
    "_count_shard_in_fork",
    "_death_of",
    "_exit_when_orphaned",
    "_facts_by_subject",
    "_interrupts_deferred",
    "_is_cluster_loss",
    "_json_text",
    "_lock_holder",
    "_metadata_bytes",
    "_open_folder",
    "_progress_bar",
    "_run_on_dask",
    "_run_on_processes",
    "_run_serially",
    "_same_file",
    "_set_parent_death_signal",
    "_sorted_unique",
    "_start_forked_child",
    "_stop_pool",
    "_write_csv",
    "_write_json",
    "_write_table",
    "as_facts",
    "build_automaton",
    "cached_automaton",
    "check_facts",
    "check_free_space",
    "check_names",
    "check_output_path",
    "check_output_writable",
    "check_scheduler_address",
    "choose_engine",
    "clean_work_dir",
    "count_block",
    "count_columns",
    "count_corpus",
    "count_shard",
    "count_texts",
    "counts_table",
    "default_work_dir",
    "engine_version",
    "estimated_output_bytes",
    "fact_strings",
    "facts_sha256",
    "find_names",
    "is_word_character",
    "load_shard_result",
    "load_triples",
    "lock_path",
    "metadata_path",
    "naive_counts",
    "note",
    "output_lock",
    "prepare_work_dir",
    "prepared_scan",
    "read_fact_table",
    "read_triples",
    "remove_orphaned_output_temporaries",
    "remove_orphaned_temporaries",
    "reuse_shard_result",
    "save_shard_result",
    "search_patterns",
    "shard_key",
    "shard_result_path",
    "work_dir_in_use",
    "write_counts",
]
