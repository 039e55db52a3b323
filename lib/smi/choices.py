"""The fixed choices of options shared by the library and the command line, free of heavy imports.

The command line registers its options from these tuples without importing pandas or torch,
and the library validates against the same tuples.
"""

#: How ``smi probe`` scores an answer: ``paper`` is the release's rule for its step (as in
#: ``smi count --match paper``), ``word`` needs word boundaries.
MATCH_RULES = ("paper", "word")
#: The generation backends of ``smi probe``.
BACKENDS = ("transformers", "vllm")
#: The weight dtypes ``smi probe`` can load a model in.
DTYPES = ("auto", "float32", "float16", "bfloat16")
#: What may be done with the facts whose object is written inside the subject's name
#: (:func:`smi.release.answer_written_in_subject`): the ``answer_in_subject`` parameter of every
#: fit, evaluation and prediction, applied by :func:`smi.release.apply_answer_in_subject`.
ANSWER_IN_SUBJECT = ("keep", "drop")
