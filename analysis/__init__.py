"""Microscopic image analysis of BBBC008 HT29 cells.

Modules, in the order data flows through them:

- :mod:`analysis.data` -- manifest and verified data files (cache, mirror, download)
- :mod:`analysis.pairing` -- channel files paired into fields by their names
- :mod:`analysis.images` -- images and masks read from TIFF files
- :mod:`analysis.explore` -- histograms, equalisation, normalisation, densities, regions
- :mod:`analysis.cluster` -- pixel clustering with stable label order
- :mod:`analysis.instances` -- instance labels from foreground masks
- :mod:`analysis.foreground` -- a stain's foreground by Otsu's or Li's threshold
- :mod:`analysis.scale` -- nucleus size per image and the scale a model predicts at
- :mod:`analysis.models` -- StarDist models found, verified and loaded
- :mod:`analysis.onnx_stardist` -- a StarDist network exported to ONNX, predicted without TensorFlow
- :mod:`analysis.segment` -- StarDist at the nuclei's scale, the baselines, per-object tables
- :mod:`analysis.cells` -- cells grown from the nuclei on the actin stain, cytoplasm
- :mod:`analysis.train` -- the project's StarDist model and its model card
- :mod:`analysis.validate` -- Dice and IoU against the hand-corrected foreground masks,
  counts against instances derived from them
- :mod:`analysis.pipeline` -- the steps run over many image pairs
- :mod:`analysis.measure` -- per-object measurements of one field, CellProfiler's layout
- :mod:`analysis.screen` -- a whole screen on dask.distributed, as Parquet parts
- :mod:`analysis.output` -- the one atomic file writer
- :mod:`analysis.figures`, :mod:`analysis.display` -- figures and tables
- :mod:`analysis.pages` -- a Quarto project's pages read as notebooks
- :mod:`analysis.kernels` -- the pages executed in kernels, side by side, cached
- :mod:`analysis.documents` -- executed pages as HTML pages and one PDF
- :mod:`analysis.render` -- the lesson website put together from these
- :mod:`analysis.notebook`, :mod:`analysis.browser` -- learner notebooks, the
  rendered pages opened in Chromium
- :mod:`analysis.provenance` -- where a result came from: software, data, model

The command line is ``python -m analysis``.
"""
