"""Runs over many fields: one per-field function, run serially or on dask."""
