"""Reasoning blocks in a completion: ``<think>...</think>`` told apart from the answer.

:func:`strip_thinking` keeps the answer, :func:`split_thinking` gives both parts. Read by
the judges' answer parsers (:mod:`toolrm_agent.judges.generative.answers`), the local chat model
(``reasoning_content``) and the wings that decode recorded outputs.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["split_thinking", "strip_thinking"]

_THINK_TAG = re.compile(r"<(/?)think(?:ing)?>", re.IGNORECASE)

def strip_thinking(
    text: str,
    *,
    unclosed: Literal["drop", "keep"] = "drop",
    lone_close: Literal["first", "last", "keep"] = "first",
    sep: str = " ",
) -> str:
    """The answer part of a completion: reasoning blocks removed.

    Removes every ``<think>...</think>`` block (``<thinking>`` too, any case), leaving
    ``sep`` in its place. ``unclosed``: an opening tag that is never closed runs to the end
    of the text (``"drop"``, the default: a truncated trace) or stays as text (``"keep"``).
    ``lone_close``: a closing tag that closes no block cuts off everything before it when
    it is the first tag (``"first"``, the default: a chat template that opens the think
    block in the prompt leaves only the closing tag in the completion), wherever it is
    (``"last"``: the answer follows the last such tag), or never (``"keep"``). One pass
    over the tags: linear in the length of ``text``, however the tags repeat.
    """
    return split_thinking(text, unclosed=unclosed, lone_close=lone_close, sep=sep)[1]


def split_thinking(
    text: str,
    *,
    unclosed: Literal["drop", "keep"] = "drop",
    lone_close: Literal["first", "last", "keep"] = "first",
    sep: str = " ",
    strip_after: bool = False,
) -> tuple[str, str]:
    """``(reasoning, answer)`` of a completion, read as :func:`strip_thinking` reads it.

    ``answer`` is what :func:`strip_thinking` returns; ``reasoning`` is the text it
    removed (the bodies of the blocks, and the text cut off by a lone closing tag), each
    piece stripped, joined by newlines. ``strip_after``: the white space after a closed
    block goes with it.
    """
    kept: list[str | None] = []  # answer pieces; None where a block stood (``sep``)
    thought: list[str] = []
    open_end: int | None = None
    pos = 0
    first = True
    for m in _THINK_TAG.finditer(text):
        closing = bool(m.group(1))
        if closing and open_end is None:
            if lone_close == "last" or (first and lone_close == "first"):
                # a lone closing tag: everything before it was reasoning
                thought.extend(p for p in kept if p is not None)
                thought.append(text[pos : m.start()])
                kept.clear()
                pos = m.end()
        elif not closing and open_end is None:
            kept.append(text[pos : m.start()])
            open_end = m.end()
            pos = m.start()
        elif closing:
            thought.append(text[open_end : m.start()])
            kept.append(None)
            pos = m.end()
            while strip_after and pos < len(text) and text[pos].isspace():
                pos += 1
            open_end = None
        first = False
    if open_end is None:
        kept.append(text[pos:])
    elif unclosed == "keep":
        kept.append(text[pos:])
    else:
        thought.append(text[open_end:])
    answer = "".join(sep if p is None else p for p in kept)
    return "\n".join(t.strip() for t in thought if t.strip()), answer
