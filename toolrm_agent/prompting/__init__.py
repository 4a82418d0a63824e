"""Text in any prompt and how a judge is called: ``prompt_text`` (untrusted text neutralised,
cut to a ``PromptBudget``, tools, calls and the conversation rendered) and ``_calling`` (a
judge call under a deadline, billed, without streaming). The judges' own templates and answer
parsers are in ``judges/generative/``. Imports only ``core``.
"""
