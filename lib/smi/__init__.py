"""smi: predict how much of a fact a language model will know from its pre-training data.

The package follows the pipeline of the project:

* :mod:`smi.data`       fetch and verify the released data and ParaRel;
* :mod:`smi.release`    load the release into tidy pandas frames;
* :mod:`smi.metrics`    CO-OCCUR, mutual information, bucketing and SMI;
* :mod:`smi.regression` bucketed and per-fact R² fits;
* :mod:`smi.plots`      figures shared by the notebooks.
"""

from smi.errors import SmiError

__version__ = "0.1.0"
__all__ = ["SmiError", "__version__"]
