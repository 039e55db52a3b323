"""pytest settings that concern the notebooks (nbval is switched on in pyproject.toml).

* Every item nbval collects from ``notebooks/*.ipynb`` gets the ``notebooks``,
  ``shared_data`` and ``slow`` marks, so ``pytest -m "not slow"`` (``make test-fast``)
  skips the full reruns of the notebooks.
* The suite runs on two workers (pytest-xdist, ``--dist loadscope``): each file, and
  so each notebook, whose cells must run in order in one kernel, stays on one worker.
* The notebooks save figures and tables under :func:`smi.notebook.figures_dir` and
  :func:`smi.notebook.results_dir`; while pytest runs, those point at a temporary
  folder, so that nbval's reruns do not rewrite ``figures/`` and ``results/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_SCRATCH: list[Path] = []


def pytest_configure(config):
    if os.environ.get("SMI_FIGURES_DIR") or os.environ.get("SMI_RESULTS_DIR"):
        return
    scratch = Path(tempfile.mkdtemp(prefix="smi-notebook-outputs-"))
    _SCRATCH.append(scratch)
    os.environ["SMI_FIGURES_DIR"] = str(scratch / "figures")
    os.environ["SMI_RESULTS_DIR"] = str(scratch / "results")


def pytest_unconfigure(config):
    for scratch in _SCRATCH:
        shutil.rmtree(scratch, ignore_errors=True)
        os.environ.pop("SMI_FIGURES_DIR", None)
        os.environ.pop("SMI_RESULTS_DIR", None)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.shared_data)
            item.add_marker(pytest.mark.slow)
