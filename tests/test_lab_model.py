"""The lab's sizes and the one place its models are built (smi.lab.model), and the settings module beside them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smi.errors import ParameterValueError, SmiError
from smi.lab import corpus as lab_corpus
from smi.lab import model as lab_model
from smi.lab import power
from smi.lab import settings as lab_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab_model") / "corpus"
    knobs = lab_settings.CorpusSettings(seed=7, people=10, organisations=2, max_stated=16)
    lab_corpus.write_corpus(power.generate_corpus(knobs), out)
    return out


def test_sizes_sort_smallest_first_and_unknown_ones_are_named():
    assert lab_model.smallest_first(["l", "xs", "m", "s"]) == ("xs", "s", "m", "l")
    assert lab_model.smallest_first(lab_settings.DEFAULT_SIZES) == lab_settings.DEFAULT_SIZES
    with pytest.raises(SmiError, match="unknown size 'huge'"):
        lab_model.smallest_first(["xs", "huge"])


def test_planned_parameters_are_those_of_the_saved_initial_model(tiny_corpus, tmp_path):
    from transformers import AutoModelForCausalLM

    size = lab_model.model_size("xs")
    folder = lab_model.save_initial_model(tiny_corpus, tmp_path / "xs", size, seed=0)
    saved = lab_model.parameter_count(AutoModelForCausalLM.from_pretrained(folder))
    assert lab_model.planned_parameters(tiny_corpus, "xs", 0) == saved
    config = AutoModelForCausalLM.from_pretrained(folder).config
    assert (config.hidden_size, config.num_hidden_layers) == (size.hidden, size.layers)


def test_settings_name_parameters_not_options():
    with pytest.raises(ParameterValueError) as caught:
        lab_settings.check_sizes(("xs", "s"))
    assert caught.value.parameter == "sizes" and "at least three sizes" in str(caught.value)
    with pytest.raises(ParameterValueError) as caught:
        lab_settings.CorpusSettings(max_stated=0)
    assert caught.value.parameter == "max_stated" and "--" not in str(caught.value)
    with pytest.raises(ParameterValueError) as caught:
        lab_settings.CorpusSettings(people=0, organisations=0)
    assert caught.value.parameter == "organisations" and "both 0" in str(caught.value)


def test_the_settings_module_imports_no_numpy_pandas_or_torch():
    """`smi --help` builds the lab's options from smi.lab.settings: it must stay light."""
    probe = (
        "import sys, smi.lab.settings as s; s.check_sizes(s.DEFAULT_SIZES); "
        "print(sorted(m for m in ('numpy', 'pandas', 'torch') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
