"""The choices of ``smi probe``'s options, free of heavy imports so the command line can register them quickly.

:mod:`smi.probing` validates against the same tuples.
"""

#: ``paper`` is the release's rule for its step, as in ``smi count --match paper``.
MATCH_RULES = ("paper", "word")


BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "float32", "float16", "bfloat16")
