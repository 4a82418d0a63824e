"""The bottom layer of the runtime: the data (calls, tool specs, context, verdicts, preference
pairs), the one reader of calls (``parsing``, ``pycalls``), ``<think>`` blocks, how proposals
agree, the progress bar, the one immutability mechanism (``_frozen``) and the errors every
layer raises (``errors``). It imports no other layer and no LangGraph.
"""
