"""Sub-commands of the ``smi`` command line, one module each."""
