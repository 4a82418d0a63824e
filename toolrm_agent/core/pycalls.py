"""Python call syntax (``f(a=1)``, ``[f(a=1), g(b='x')]``) read from its AST, never run.

The one Python-call reader of the project: :func:`toolrm_agent.core.parsing.parse_bfcl_string`
and the recorded-output decoder of ``eval/bfcl/decode.py`` both read calls and argument values
with :func:`read_call` and :func:`read_value`. Where they read Python differently, a field
of :class:`PythonSyntax` says which reading applies; its defaults are the reading of
:mod:`toolrm_agent.core.parsing`.

Nothing is evaluated but number arithmetic (``3 * 10**8``). A call or value the options
do not accept raises :class:`Unreadable` (a ``ValueError``) with the reason.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, replace
from typing import Any, Literal

from toolrm_agent.core.errors import ToolRMError

BareNames = Literal["string", "variable"]
Positional = Literal["reject", "ignore", "keep"]
Dialect = Literal["json", "bfcl"]

MAX_ARITHMETIC_BITS = 3000
"""A ``json``-dialect argument computed from arithmetic (``3 * 10**8``) that grows past this
many bits (about 900 digits) is kept as its source text: Python cannot even print much
larger ones."""

MAX_NAME_IN_REASON = 200
"""Source text quoted in a failure reason is cut to this many characters."""

POSITIONAL_KEY = "*args"
"""Where ``positional="keep"`` puts a call's positional argument values (a list), for the
caller to bind to parameter names."""


@dataclass(frozen=True)
class PythonSyntax:
    """How Python call syntax is read.

    ``bare_names``: a bare name as a value (``angle=theta``) is its ``"string"`` (BFCL v4,
    the default) or a ``"variable"``, which makes the call unreadable (BFCL's 2024
    leaderboard, what ``eval/bfcl/decode.py`` reproduces).

    ``positional``: positional arguments make the call unreadable (``"reject"``, the
    default), are dropped (``"ignore"``, BFCL's ``ast_parse``) or are kept as a list under
    :data:`POSITIONAL_KEY` (``"keep"``, to be bound to parameter names by the caller).

    ``dialect``: how argument values are read. ``"json"`` (the default): JSON-able data
    (tuples and sets become lists, bytes text), ``**kwargs`` expansion makes the call
    unreadable, and any other expression is kept as its source text. ``"bfcl"``: as BFCL's
    ``resolve_ast_by_type`` reads them: tuples stay tuples, ``not x`` is evaluated,
    ``**{...}`` is spread into the arguments, a nested call with keywords is
    ``{name: arguments}``, attributes, subscripts and f-strings are their source, and
    any other expression makes the call unreadable.

    ``quoted_names``: a function name written as a string (``'f'(a=1)``) counts.
    """

    bare_names: BareNames = "string"
    positional: Positional = "reject"
    dialect: Dialect = "json"
    quoted_names: bool = False


DEFAULT = PythonSyntax()


class Unreadable(ToolRMError, ValueError):
    """A call or value that the options do not accept; ``str()`` is the reason. Internal:
    the readers turn it into a :class:`~toolrm_agent.core.calls.ParseFailure`."""

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(reason)
        self.name = name


# ------------------------------------------------------------------------------ calls


def unparse(node: ast.AST) -> str:
    """``ast.unparse`` that never raises (a node nested past the recursion limit)."""
    try:
        return ast.unparse(node)
    except (RecursionError, ValueError):
        return f"<{type(node).__name__} nested too deeply>"


def call_name(func: ast.expr, quoted: bool = False) -> str | None:
    """``f`` or ``a.b.c`` → the name (``'f'`` too with ``quoted``); else None (``f(x)(y)``)."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    elif quoted and isinstance(func, ast.Constant) and isinstance(func.value, str):
        parts.append(func.value)
    else:
        return None
    return ".".join(reversed(parts))


def read_call(node: ast.Call, syntax: PythonSyntax = DEFAULT) -> tuple[str, dict[str, Any]]:
    """``f(a=1)`` → ``("f", {"a": 1})``; raises :class:`Unreadable` (with ``.name`` where
    the function name was read) for what ``syntax`` does not accept."""
    name = call_name(node.func, syntax.quoted_names)
    if name is None:
        func = unparse(node.func)[:MAX_NAME_IN_REASON]
        raise Unreadable(f"not a function name: {func!r}")
    args: dict[str, Any] = {}
    if node.args and syntax.positional == "reject":
        raise Unreadable("positional arguments; calls must use keyword arguments", name)
    if node.args and syntax.positional == "keep":
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise Unreadable(f"starred positional arguments: {unparse(node)}", name)
        args[POSITIONAL_KEY] = [read_value(a, syntax) for a in node.args]
    try:
        for kw in node.keywords:
            if kw.arg is not None:
                args[kw.arg] = read_value(kw.value, syntax)
            elif syntax.dialect == "json":
                raise Unreadable("**kwargs expansion is not a call", name)
            else:  # f(**{...})
                spread = read_value(kw.value, syntax)
                if isinstance(spread, dict):
                    args.update({str(k): v for k, v in spread.items()})
    except Unreadable as exc:
        exc.name = exc.name or name
        raise
    return name, args


# ----------------------------------------------------------------------------- values

_ARITHMETIC: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def read_value(node: ast.expr, syntax: PythonSyntax = DEFAULT) -> Any:
    """One argument value (see :class:`PythonSyntax` for the readings)."""
    bfcl = syntax.dialect == "bfcl"
    if not bfcl:
        try:
            return _plain(ast.literal_eval(node))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    elif isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    elif isinstance(node, ast.UnaryOp):
        return _unary(node, syntax)
    if isinstance(node, ast.Name):
        if syntax.bare_names == "string":
            return node.id
        # A variable, not a value: the call is not concrete.
        raise Unreadable(f"argument is a variable, not a value: {node.id}")
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [read_value(e, syntax) for e in node.elts]
        return tuple(items) if bfcl and isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        return {
            _key(k, syntax): read_value(v, syntax)
            for k, v in zip(node.keys, node.values, strict=True)
        }
    if isinstance(node, ast.BinOp):
        return _arithmetic(node, syntax)
    if not bfcl:
        return unparse(node)
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        name, args = read_call(node, replace(syntax, quoted_names=False))
        args.pop(POSITIONAL_KEY, None)  # positional binding is for the top-level calls only
        return {name: args}
    if isinstance(node, ast.Subscript | ast.Attribute | ast.JoinedStr):
        return ast.unparse(node)
    if isinstance(node, ast.Lambda):
        return ast.unparse(node.body)
    raise Unreadable(f"unsupported value {type(node).__name__}: {ast.unparse(node)}")


def _unary(node: ast.UnaryOp, syntax: PythonSyntax) -> Any:
    operand = read_value(node.operand, syntax)
    if isinstance(node.op, ast.USub) and isinstance(operand, int | float):
        return -operand
    if isinstance(node.op, ast.UAdd) and isinstance(operand, int | float):
        return operand
    if isinstance(node.op, ast.Not):
        return not operand
    raise Unreadable(f"unsupported unary operator in {ast.unparse(node)}")


def _key(node: ast.expr | None, syntax: PythonSyntax) -> Any:
    """A dict key (``**`` for ``{**other}``); in the ``json`` dialect a key that is not a
    JSON-like scalar is its source text."""
    if node is None:
        return "**"
    key = read_value(node, syntax)
    if syntax.dialect == "bfcl" or key is None or isinstance(key, str | int | float | bool):
        return key
    return unparse(node)


def _arithmetic(node: ast.BinOp, syntax: PythonSyntax) -> Any:
    """``3 * 10**8`` → 300000000; arithmetic that is not on numbers (or too large) → its
    source text."""
    try:
        if syntax.dialect == "bfcl":
            return _bfcl_number(node)
        value = _json_number(node, syntax)
    except (Unreadable, ArithmeticError, OverflowError):
        return ast.unparse(node) if syntax.dialect == "bfcl" else unparse(node)
    return unparse(node) if value is None else value


def _json_number(node: ast.BinOp, syntax: PythonSyntax) -> Any:
    """Numbers only (no booleans), small exponents, at most :data:`MAX_ARITHMETIC_BITS`
    bits and no complex result; else None."""
    left, right = read_value(node.left, syntax), read_value(node.right, syntax)
    op = _ARITHMETIC.get(type(node.op))
    numeric = (int, float)
    if (
        op is None
        or not isinstance(left, numeric)
        or not isinstance(right, numeric)
        or isinstance(left, bool)
        or isinstance(right, bool)
        or (isinstance(node.op, ast.Pow) and abs(right) > 64)
    ):
        return None
    try:
        value = op(left, right)
    except (ArithmeticError, ValueError):
        return None
    if isinstance(value, complex):  # (-8) ** 0.5
        return None
    if isinstance(value, int) and value.bit_length() > MAX_ARITHMETIC_BITS:
        return None
    return value


def _bfcl_number(node: ast.expr) -> Any:
    """Number arithmetic as BFCL's decoder ``eval``s it (booleans are numbers there)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _bfcl_number(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _bfcl_number(node.left), _bfcl_number(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise Unreadable("exponent too large")
        return _ARITHMETIC[type(node.op)](left, right)
    raise Unreadable(f"not arithmetic: {ast.unparse(node)}")


def _plain(value: Any) -> Any:
    """A Python literal as JSON-able data: tuples and sets → lists, bytes → text."""
    if isinstance(value, dict):
        return {
            k if isinstance(k, str | int | float | bool) or k is None else str(k): _plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, complex) or value is Ellipsis:
        return str(value)
    return value


__all__ = [
    "DEFAULT",
    "MAX_ARITHMETIC_BITS",
    "MAX_NAME_IN_REASON",
    "POSITIONAL_KEY",
    "PythonSyntax",
    "Unreadable",
    "call_name",
    "read_call",
    "read_value",
    "unparse",
]
