"""The choices of ``smi probe``'s options, free of heavy imports so the command line can register them quickly.

:mod:`smi.probing` validates against the same tuples.
"""

MATCH_RULES = ("substring", "word")
BACKENDS = ("transformers", "vllm")
DTYPES = ("auto", "float32", "float16", "bfloat16")
