"""Data shipped with the package: the models table (models.csv) and the path and SHA256 of every fetched data
file (manifest.csv)."""
