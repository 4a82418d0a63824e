"""ACEBench (English) as an evaluation set: its questions, our own checker, preference pairs.

ACEBench is a tool-use benchmark not built on BFCL (MIT; the data are read from
``../shared/data/acebench`` or ``--data``, never copied into the repository, never trained
on). :mod:`eval.acebench.data` reads questions and ground truth, :mod:`eval.acebench.checker`
scores an answer to the reference's semantics, :mod:`eval.acebench.tasks` turns a question
into an agent task for :mod:`eval.tasks`, and :mod:`eval.acebench.pairs` builds
TRBench-style preference pairs from a policy's failing answers.
"""
