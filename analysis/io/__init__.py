"""Input and output: the data set's registry, pairing and reading images, atomic writes, provenance."""
