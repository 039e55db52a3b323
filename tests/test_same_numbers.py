"""Same numbers on every machine: the computations behind the notebooks' published numbers, rerun in fresh
processes under other BLAS kernels, torch CPU paths and thread counts, agree at the precision they are shown.

A variable such as ``OPENBLAS_CORETYPE`` or ``OMP_NUM_THREADS`` has no effect once numpy or torch is
imported, so each setting gets its own interpreter. What runs is the library code the notebooks call:
the held-out evaluation of notebook 06 (its quick size) and the release fits of notebooks 04 and 06.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

#: The settings a machine of this kind can differ in (README, "Same numbers on every machine").
SETTINGS = {
    "default": {},
    "generic kernels, one thread": {
        "OPENBLAS_CORETYPE": "Prescott",
        "ATEN_CPU_CAPABILITY": "default",
        "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    },
    "2 threads": {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"},
}

#: Notebook 06's quick selection of models; the evaluation at the notebook's quick size.
SCRIPT = """
import json, sys
from smi import formats, prediction, regression, release
release_dir = sys.argv[1]
models = release.select_models(formats.load_models(),
                               ["pythia-410m", "pythia-2.8b", "bloom-560m", "bloom-3b", "ours-1.6b", "ours-7b"])
accuracies, _ = release.apply_answer_in_subject(release.load_accuracies(release_dir, models), "drop")
predictions = prediction.evaluate(accuracies, "leave-one-corpus-out", 40, threads=1)
summary = prediction.summarise(predictions, 20)
bucketed, per_fact = regression.fit_all(regression.release_predictors(release_dir, models))
table = lambda frame, key, value: {f"{a} {b}": v for a, b, v in frame[["model", key, value]].itertuples(index=False)}
print(json.dumps({
    "held-out r2": table(summary, "predictor", "r2"),
    "held-out spearman": table(summary, "predictor", "spearman"),
    "bucketed r2": table(bucketed, "method", "r2"),
    "per-fact r2": table(per_fact, "method", "r2"),
}))
"""


def run_under(environment: dict, release_dir) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {n for s in SETTINGS.values() for n in s}}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(release_dir)],
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow
@pytest.mark.shared_data
def test_published_numbers_agree_at_their_shown_precision_under_every_setting(release_dir):
    runs = {name: run_under(environment, release_dir) for name, environment in SETTINGS.items()}
    reference = runs.pop("default")
    for name, run in runs.items():
        for table, values in reference.items():
            assert run[table].keys() == values.keys()
            shown = {key: np.round(value, 3) for key, value in values.items()}
            differs = {
                key: (shown[key], np.round(run[table][key], 3))
                for key in values
                if shown[key] != np.round(run[table][key], 3)
            }
            assert not differs, f"{name}: {table} differs at 3 decimals: {differs}"
