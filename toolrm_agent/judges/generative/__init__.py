"""The generative judge (``generative``: any LangChain chat model as a judge), its prompt
templates (``templates``), a user's TOML template file (``template_file``) and the parsers
of its answers (``answers``).
"""
