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

* :mod:`smi.counting.scan`  the scan of blocks of documents, the counts, the naive reference;
* :mod:`smi.counting.shards`  shard results saved under a key, and the work folder;
* :mod:`smi.counting.runner`  counting a corpus serially, on forked processes or on Dask;
* :mod:`smi.counting.output`  output checks, the lock, the table and its metadata.

The public names of the four modules are importable from :mod:`smi.counting`; the facts are read by
:func:`smi.formats.read_facts` and the matchers live in :mod:`smi.matchers`.
"""

from __future__ import annotations

from smi.counting.output import (
    OUTPUT_SUFFIXES,
    check_output_path,
    check_output_writable,
    count_lock,
    default_work_dir,
    estimated_output_bytes,
    metadata_path,
    remove_orphaned_output_temporaries,
    write_counts,
)
from smi.counting.runner import (
    CountRun,
    check_scheduler_address,
    choose_engine,
    count_corpus,
)
from smi.counting.scan import (
    DEFAULT_BLOCK_CHARS,
    Counts,
    FactStrings,
    NameScan,
    count_block,
    count_columns,
    count_texts,
    counts_table,
    fact_strings,
    naive_counts,
    prepared_scan,
)
from smi.counting.shards import (
    SHARD_FORMAT,
    SHARD_TEMPORARY,
    CountSettings,
    ShardResult,
    check_free_space,
    clean_work_dir,
    count_shard,
    counting_code_version,
    load_shard_result,
    prepare_work_dir,
    remove_orphaned_shard_temporaries,
    reuse_shard_result,
    save_shard_result,
    shard_key,
    shard_result_path,
    work_dir_in_use,
)

__all__ = [
    "DEFAULT_BLOCK_CHARS",
    "OUTPUT_SUFFIXES",
    "SHARD_FORMAT",
    "SHARD_TEMPORARY",
    "CountRun",
    "CountSettings",
    "Counts",
    "FactStrings",
    "NameScan",
    "ShardResult",
    "check_free_space",
    "check_output_path",
    "check_output_writable",
    "check_scheduler_address",
    "choose_engine",
    "clean_work_dir",
    "count_block",
    "count_columns",
    "count_corpus",
    "count_lock",
    "count_shard",
    "count_texts",
    "counting_code_version",
    "counts_table",
    "default_work_dir",
    "estimated_output_bytes",
    "fact_strings",
    "load_shard_result",
    "metadata_path",
    "naive_counts",
    "prepare_work_dir",
    "prepared_scan",
    "remove_orphaned_output_temporaries",
    "remove_orphaned_shard_temporaries",
    "reuse_shard_result",
    "save_shard_result",
    "shard_key",
    "shard_result_path",
    "work_dir_in_use",
    "write_counts",
]
