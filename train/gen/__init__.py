"""Generative critics: ``toolrm train gen`` (GRPO with a verifiable reward, trl).

The judge is asked the runtime's own pairwise prompt and must answer ``<choice>1</choice>``
or ``<choice>2</choice>``; the reward is 1 when its parsed choice is the label. See
:mod:`train.gen.grpo`.
"""
