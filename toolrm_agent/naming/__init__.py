"""What models, judges and the critic share about the names a user writes: the grammar of
judge and policy spec strings (``_spec_strings``: ``schema``, ``gen:<model>``,
``openai:<model>@<url>``, ...) and the runtime's once-only hints (``_hints``: the one near-miss
finder, the warning for a tool call written as text). Private to the runtime: the wings never
import it.
"""
