"""The critic layer: the LangGraph node (``node``: ``ToolRMCritic``, ``add_critic``), the
``create_agent`` middleware (``middleware``) and the agent graph (``graph``), over the one
decision engine (``_engine``) and its private parts (options, state, transcript repair,
decision log, escalation, tracing, ...). Import the public names from ``toolrm_agent``.
"""
