"""The ``toolrm eval`` commands and ``toolrm demo``: one module each, defining ``command``.

They import from the rooms (:mod:`eval.bfcl`, :mod:`eval.pairs`, :mod:`eval.tasks`) and
:mod:`eval.options`, never from each other. :mod:`eval.cli` registers them.
"""
