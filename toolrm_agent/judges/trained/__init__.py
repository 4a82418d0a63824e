"""Trained judges: the trained critic (``trained``: call features + MiniLM relevance [+ LM
reading], ``TrainedJudge``), a scalar reward model checkpoint (``discriminative``) and the LM
reading they share (``lm_scoring``; ``lm_server`` from a server's log-probabilities).
"""
