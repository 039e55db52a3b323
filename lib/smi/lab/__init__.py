"""A knowledge-retention lab: pre-train small language models on a corpus whose knowledge is known.

The corpus (``smi lab corpus``):

* :mod:`smi.lab.vocabulary` — relations, prompts, object pools and names;
* :mod:`smi.lab.filler` — filler sentences from the vital-article summaries;
* :mod:`smi.lab.tokenizer` — names made of syllables, and the lab's BPE tokenizer;
* :mod:`smi.lab.design` — the crossed design (co-occurrence fixed, MI moved by three arms);
* :mod:`smi.lab.power` — the power-law design;
* :mod:`smi.lab.truth` — the truth by construction (the paper's rule) and the guessing baseline;
* :mod:`smi.lab.corpus` — the corpus folder: its files, the writer and the readers.

The models (``smi lab train``):

* :mod:`smi.lab.model` — the sizes, and the one place a lab model is built;
* :mod:`smi.lab.schedule` — packed blocks, batches and the learning rate;
* :mod:`smi.lab.resume` — checkpoints and finished-model records, and when either is trusted;
* :mod:`smi.lab.train` — pre-training a model of a given size, resumable.

The whole loop (``smi lab run``):

* :mod:`smi.lab.settings` — every knob of the lab (light enough for ``smi --help``);
* :mod:`smi.lab.stages` — one seed's corpus, counts, probes and the prediction before training;
* :mod:`smi.lab.experiment` — the (seed, size) jobs in worker processes;
* :mod:`smi.lab.chance` — chance per fact: the shuffled-subject control and the prior;
* :mod:`smi.lab.analysis` — acquisition tables, learning checks and the run's summary;
* :mod:`smi.lab.bootstrap` — the hierarchical bootstrap over seeds and facts: arms and headline;
* :mod:`smi.lab.run` — the run: stages, jobs, fit, tables and summary into one folder;
* :mod:`smi.lab.results` — the committed tables notebook 07 reads, stamped, and their one reader.

Controlled experiments (``smi lab experiment NAME``, notebook 08): :mod:`smi.lab.experiments`.
"""
