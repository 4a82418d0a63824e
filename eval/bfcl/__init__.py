"""BFCL data and checking: where every measurement starts.

- :mod:`eval.bfcl.questions`: BFCL v4 questions, possible answers and BFCL's own checkers.
- :mod:`eval.bfcl.stub`: the stand-in for BFCL's model registry the checkers import behind.
- :mod:`eval.bfcl.results`: recorded model outputs (``--results`` folders) as one shape.
- :mod:`eval.bfcl.decode`: a recorded output's text → a :class:`~toolrm_agent.core.calls.Proposal`.
"""
