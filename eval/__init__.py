"""The eval wing: measurements of critics, offline. The flow, room by room:

``bfcl/``      BFCL data and checking (questions, checkers, recorded results, decoding)
``pairs.py``   preference pairs and best-of-N pools graded from recorded results
``tasks/``     BFCL questions as live agent tasks; the arm runner and its report
``commands/``  ``toolrm eval rescore | trbench | bon | rejections | selfcorrect | acebench | plot`` and ``toolrm demo``
``bench/``     ``toolrm bench ...``: reliability, speed and robustness benchmarks
``options.py`` what the commands share: ``--judge`` / ``--results`` handling, the progress bar
``cli.py``     the ``toolrm eval`` group

Nothing in :mod:`toolrm_agent` imports this package at module level.
"""
