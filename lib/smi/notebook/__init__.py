"""What the notebooks share: parameter checks, default folders, a clean display, and cleaning before a commit.

One idea per module; every public name is re-exported here, so a notebook writes
``from smi import notebook; notebook.setup()``.

=================================  ==========================================================================
:mod:`~smi.notebook.parameters`    the checks of the parameters cell (its convention), one error type
:mod:`~smi.notebook.folders`       default folders, and a folder of its own for a run with other parameters
:mod:`~smi.notebook.display`       the kernel set up for clean outputs: inline figures, tables, one-line errors
:mod:`~smi.notebook.cleaning`      an executed notebook without per-run metadata, stamped with its code
=================================  ==========================================================================

``smi notebook clean NOTEBOOK...`` (:mod:`smi.commands.notebook`) cleans executed notebooks;
``make notebooks`` calls it.
"""

from __future__ import annotations

from smi.notebook.cleaning import (
    RUN_METADATA_KEYS,
    STAMP_KEY,
    clean_executed,
    code_stamp,
    notebook_modules,
    strip_run_metadata,
)
from smi.notebook.display import INLINE_DPI, format_number, formatted, one_line_error, setup, silence_progress_bars
from smi.notebook.folders import (
    FIGURES_DIR_ENV,
    OUTPUT_PARAMETERS,
    RESULTS_DIR_ENV,
    corpus_path,
    figures_dir,
    output_folders,
    parameter_defaults,
    results_dir,
)
from smi.notebook.parameters import (
    bool_parameter,
    choice_parameter,
    list_parameter,
    number_parameter,
    path_parameter,
)

__all__ = [
    "FIGURES_DIR_ENV",
    "INLINE_DPI",
    "OUTPUT_PARAMETERS",
    "RESULTS_DIR_ENV",
    "RUN_METADATA_KEYS",
    "STAMP_KEY",
    "bool_parameter",
    "choice_parameter",
    "clean_executed",
    "code_stamp",
    "corpus_path",
    "figures_dir",
    "format_number",
    "formatted",
    "list_parameter",
    "notebook_modules",
    "number_parameter",
    "one_line_error",
    "output_folders",
    "parameter_defaults",
    "path_parameter",
    "results_dir",
    "setup",
    "silence_progress_bars",
    "strip_run_metadata",
]
