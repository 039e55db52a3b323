"""The authors' own regression results shipped with the release, their comparison with ours, and the
paper's headline claim version by version.

The release holds, next to its data, the numbers the authors computed from it (``analysis/`` of
the release). Its tables are read, checked and given this project's names
(:func:`load_main_table`, :func:`load_model_tables`), so that :func:`compare_with_fit` can set
them beside :func:`smi.regression.fit_release`.

One idea per module; every public name is re-exported here, so ``from smi import paper_tables;
paper_tables.load_main_table(...)`` works as before.

======================================  ====================================================================
:mod:`~smi.paper_tables.sheets`         one xlsx sheet read, each cell checked (errors name file, row, column)
:mod:`~smi.paper_tables.fit_tables`     the authors' main and per-model tables, checked and renamed
:mod:`~smi.paper_tables.comparison`     our bucketed fits beside the authors' numbers
:mod:`~smi.paper_tables.headline`       the paper's headline claim, version by version, against our fits
======================================  ====================================================================
"""

from __future__ import annotations

from smi.paper_tables.comparison import COMPARISON_COLUMNS, compare_with_fit, largest_differences
from smi.paper_tables.fit_tables import (
    COLUMN_NAMES,
    MAIN_TABLE,
    METHOD_NAMES,
    MODEL_TABLES,
    QUANTITIES,
    TABLE_COLUMNS,
    load_main_table,
    load_model_tables,
    main_table_path,
    model_names,
)
from smi.paper_tables.headline import (
    APPROXIMATE_TOLERANCE,
    HEADLINE_CLAIMS,
    HEADLINE_MODELS,
    HeadlineClaim,
    check_headline,
    claim_models,
)

__all__ = [
    "APPROXIMATE_TOLERANCE",
    "COLUMN_NAMES",
    "COMPARISON_COLUMNS",
    "HEADLINE_CLAIMS",
    "HEADLINE_MODELS",
    "MAIN_TABLE",
    "METHOD_NAMES",
    "MODEL_TABLES",
    "QUANTITIES",
    "TABLE_COLUMNS",
    "HeadlineClaim",
    "check_headline",
    "claim_models",
    "compare_with_fit",
    "largest_differences",
    "load_main_table",
    "load_model_tables",
    "main_table_path",
    "model_names",
]
