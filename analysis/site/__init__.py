"""A renderer for Quarto website projects, without Quarto.

It reads a project's ``_quarto.yml`` and pages, executes the pages in
Jupyter kernels with a cache, and writes HTML pages, notebooks and one PDF.
It imports nothing of the rest of :mod:`analysis`: a project hands it the
files each page's results depend on.
"""
