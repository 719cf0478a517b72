"""Echoed code as a reader would type it: names that stand for values shown as the values.

A chapter written for any dataset refers to its columns through names (`P.x`,
`f"mean_{P.y}"`); a reader of one build wants the columns themselves (`"SES"`,
`"mean_MathAch"`). `shown_code(code, names)` rewrites the code a cell echoes, never
the code that runs: every attribute `a.b` listed in `names` becomes its value as a
string literal, and inside f-strings the value's text, so that `f"mean_{P.y}"` becomes
`"mean_MathAch"`. Code that does not parse is shown unchanged.
"""
from __future__ import annotations

import ast
import json
from typing import Mapping


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _literal(value: str | int) -> str:
    return json.dumps(value, ensure_ascii=False)  # a Python literal; text in double quotes


class _Fill(ast.NodeTransformer):
    """Listed attributes inside an f-string's expressions become constants."""

    def __init__(self, names: Mapping[str, str | int]):
        self.names = names
        self.changed = False

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        name = _dotted(node)
        if name in self.names:
            self.changed = True
            return ast.Constant(self.names[name])
        return self.generic_visit(node)


def _fstring(node: ast.JoinedStr, names: Mapping[str, str | int]) -> str | None:
    """The f-string with its listed names filled in, or None if it has none."""
    fill = _Fill(names)
    values: list[ast.expr] = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            part = fill.visit(part)
            if isinstance(part.value, ast.Constant) and part.conversion == -1 and part.format_spec is None:
                part = ast.Constant(str(part.value.value))  # {P.y} -> its text
        if isinstance(part, ast.Constant) and values and isinstance(values[-1], ast.Constant):
            values[-1] = ast.Constant(values[-1].value + part.value)
        else:
            values.append(part)
    if not fill.changed:
        return None
    if all(isinstance(v, ast.Constant) for v in values):
        return _literal("".join(v.value for v in values))
    text = ast.unparse(ast.JoinedStr(values=values))
    if text.startswith("f'") and '"' not in text:
        text = 'f"' + text[2:-1] + '"'
    return text


def shown_code(code: str, names: Mapping[str, str | int]) -> str:
    """`code` with the attributes listed in `names` ({"P.x": "SES"}) shown as values."""
    if not names:
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return starts[lineno - 1] + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8"))

    edits: list[tuple[int, int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.JoinedStr):
            text = _fstring(node, names)
            if text is not None:
                edits.append((offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset), text))
            return  # positions inside f-strings are not reliable before Python 3.12
        name = _dotted(node)
        if name in names:
            edits.append((offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset),
                          _literal(names[name])))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    for start, end, text in sorted(edits, reverse=True):
        code = code[:start] + text + code[end:]
    return code
