"""The hash of the code that keys saved work and stamps committed outputs (smi.hashing.code_sha256)."""

from __future__ import annotations

from smi.hashing import _code_text, code_sha256, import_closure

SOURCE = '''"""A module."""

import math


def area(radius):
    """The area of a circle."""
    # pi r squared
    return math.pi * radius**2
'''


def test_comments_docstrings_and_layout_do_not_count():
    edited = SOURCE.replace('"""The area of a circle."""', '"""Area, in square units."""')
    edited = edited.replace("# pi r squared", "# the classic formula").replace("radius**2", "radius ** 2")
    edited = edited.replace('"""A module."""', "# no docstring here")
    assert _code_text(edited) == _code_text(SOURCE)


def test_any_change_of_what_the_code_does_counts():
    assert _code_text(SOURCE.replace("radius**2", "radius**3")) != _code_text(SOURCE)
    assert _code_text(SOURCE.replace("math.pi", "3.14")) != _code_text(SOURCE)


def test_a_function_left_with_only_a_docstring_still_parses():
    assert "pass" in _code_text('def f():\n    """Nothing."""\n')


def test_the_closure_follows_imports_inside_functions_and_parent_packages():
    closure = import_closure(["smi.prediction.estimators"])
    assert {"smi", "smi.prediction", "smi.prediction.features", "smi.errors"} <= set(closure)
    # smi.prediction.evaluation imports smi.metrics and smi.regression: reached through the package's __init__
    assert {"smi.metrics", "smi.regression"} <= set(closure)
    assert "smi.lab.train" not in closure


def test_the_hash_depends_on_the_modules_and_the_extra_text():
    assert code_sha256(["smi.metrics"]) == code_sha256(["smi.metrics"])
    assert code_sha256(["smi.metrics"]) != code_sha256(["smi.metrics"], extra="numpy 2")
    assert code_sha256(["smi.metrics"]) != code_sha256(["smi.lab.train"])
    assert code_sha256(["not.smi"]) == code_sha256([])
