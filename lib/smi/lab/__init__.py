"""A knowledge-retention lab: pre-train small language models on a corpus whose knowledge is known.

* :mod:`smi.lab.vocabulary` — relations, prompts, object pools and names;
* :mod:`smi.lab.settings` — the corpus generator's knobs;
* :mod:`smi.lab.corpus` — the corpus generator and its truth table (``smi lab corpus``);
* :mod:`smi.lab.train` — pre-training a GPT-NeoX of a given size, resumable (``smi lab train``);
* :mod:`smi.lab.analysis` — acquisition curves, learning checks, R² with intervals, specificity;
* :mod:`smi.lab.run` — the whole loop with ``smi count``, ``smi probe``, ``smi fit`` and prediction
  before training (``smi lab run``).
"""
