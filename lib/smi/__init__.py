"""smi: predict how much of a fact a language model will know from its pre-training data.

The pipeline, step by step, and the module that holds each idea:

1. Data
   * :mod:`smi.data`           where the data lives; fetch the release and ParaRel with SHA-256 checks;
   * :mod:`smi.corpus`         small corpora shipped in packages (the vital-article summaries), as JSONL.
2. Reading
   * :mod:`smi.records`        the release's JSON records, read and checked without pandas;
   * :mod:`smi.formats`        the one validated reader of each file format;
   * :mod:`smi.release`        the release as tidy pandas frames (facts, counts, model outputs, templates).
3. Facts and templates
   * :mod:`smi.triples`        rebuild the probe facts and templates from ParaRel's T-REx data;
   * :mod:`smi.sentences`      sentence-level evidence: sentences that mention and that state a fact.
4. Counting
   * :mod:`smi.corpus_io`      read a corpus's documents from JSON-lines or parquet, shard by shard;
   * :mod:`smi.counting`       document counts of each fact's subject and object over a corpus;
   * :mod:`smi.frequency`      summaries of the counts and how corpora agree.
5. Predictors and fits
   * :mod:`smi.metrics`        CO-OCCUR, mutual information, bucketing and SMI;
   * :mod:`smi.regression`     the bucketed (paper's) and per-fact R² fits;
   * :mod:`smi.paper_tables`   the authors' own results and their comparison with ours;
   * :mod:`smi.trends`         whether a quantity grows with model size within each series.
6. Probing
   * :mod:`smi.probing`        per-fact accuracy of a causal LM (protocol, inputs, backends, run, analysis);
   * :mod:`smi.testing`        tiny untrained models built from text, for tests and demonstrations.
7. Prediction
   * :mod:`smi.prediction`     out-of-sample prediction of per-fact accuracy before training.
8. The knowledge lab
   * :mod:`smi.lab`            a corpus whose knowledge is known, small models pre-trained on it, the whole loop.
9. Presentation
   * :mod:`smi.plots`          figure helpers shared by the notebooks;
   * :mod:`smi.panels`         the paper's per-model figure panels;
   * :mod:`smi.notebook`       notebook parameters, defaults and a clean display.
10. Plumbing
   * :mod:`smi.errors`         the one input-error type and the checks that raise it (``check_scalar``);
   * :mod:`smi.choices`        the fixed choices of options (probe, answer-in-subject), light enough for the CLI;
   * :mod:`smi.files`          atomic output files, folders a command owns, tables and JSON written whole;
   * :mod:`smi.hashing`        SHA-256 keys of saved work: files, frames, JSON values, texts, the code;
   * :mod:`smi.locks`          one lock per output;
   * :mod:`smi.cli` and :mod:`smi.commands`  the ``smi`` command line, one sub-command per step.
"""

from smi.errors import SmiError

__version__ = "0.1.0"
__all__ = ["SmiError", "__version__"]
