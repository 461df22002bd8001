"""Microscopic image analysis of BBBC008 HT29 cells.

Rooms, each a sub-package with one job per module, in the order data flows
through them (lower rooms never import higher ones; ``make test`` checks
this with import-linter):

- :mod:`analysis.io` -- the data set's registry (manifest, mirror, cache),
  pairing channel files into fields, reading images, atomic writes, provenance
- :mod:`analysis.steps` -- the lesson's science, plain functions on arrays:
  exploration, clustering, foregrounds, instances, scale, classical
  segmentation, cells, features, validation
- :mod:`analysis.models` -- StarDist models found, verified, loaded, exported
  to ONNX and predicted at the nuclei's scale
- :mod:`analysis.methods` -- the nuclei methods by name: what each runs, and
  whether it needs a model
- :mod:`analysis.batch` -- one per-field function, run serially (``count``,
  ``validate``) or on dask (``measure``)
- :mod:`analysis.plots` -- figures, and the figures of a run written to files
- :mod:`analysis.training` -- the project's StarDist model and its model card
- :mod:`analysis.lesson` -- the lesson as a project of the renderer: what
  each page's cache depends on
- :mod:`analysis.cli` -- the command line, ``python -m analysis``, one
  module per command
- :mod:`analysis.site` -- a renderer for Quarto website projects, which
  imports nothing of the rooms above
"""
