"""Controlled experiments on small models (``smi lab experiment NAME``), each a module with its settings.

* :mod:`smi.lab.experiments.kit` — the word-level world of facts, its network, training, scoring,
  intervals over seeds and the resumable jobs every experiment shares;
* :mod:`smi.lab.experiments.capacity` — bits of facts stored per parameter, and saturation;
* :mod:`smi.lab.experiments.diversity` — phrasing diversity and the extraction of facts in new phrasings;
* :mod:`smi.lab.experiments.forgetting` — retention of a fact after its last exposure, and batch size;
* :mod:`smi.lab.experiments.holdout` — the largest lab model's accuracy predicted before it is trained;
* :mod:`smi.lab.experiments.figures` — one figure per experiment;
* :mod:`smi.lab.experiments.results` — the committed result tables notebook 08 reads, stamped;
* :mod:`smi.lab.experiments.run` — one experiment run into a folder (table, summary, figure).
"""

#: The experiments, by the name ``smi lab experiment`` takes.
EXPERIMENTS = ("capacity", "diversity", "forgetting", "holdout")
