"""The choices of ``smi probe``'s options, free of heavy imports so the command line can register them quickly.

:mod:`smi.probing` validates against the same tuples.
"""

#: ``paper`` is the release's rule for its step, as in ``smi count --match paper``; ``substring``
#: is this rule's earlier name, still accepted.
MATCH_RULES = ("paper", "word")
MATCH_ALIASES = {"substring": "paper"}


def match_rule(value: str) -> str:
    """``value`` with an alias replaced by the rule's name (for argparse's ``type=``)."""
    return MATCH_ALIASES.get(value, value)


BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "float32", "float16", "bfloat16")
