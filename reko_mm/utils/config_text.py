"""A config saved as text in a checkpoint (``meta['cfg']``, mmengine's ``pretty_text``), read
as data: never executed.

mmengine writes the whole config as Python assignments (``model = dict(type='Pix2Pix', ...)``).
:func:`read_config_text` parses that text with :mod:`ast` and keeps each top-level assignment
whose value is a literal: numbers, strings, bools, ``None``, lists, tuples, dicts and
``dict(key=literal, ...)`` calls. Anything else (a statement, another call, a name) is left out,
and is listed in the result's ``skipped``; nothing in the text runs.
"""
import ast
from typing import Any, List, Tuple


class _NotLiteral(ValueError):
    pass


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):  # {**x}
            raise _NotLiteral('dict unpacking')
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args and \
            all(k.arg is not None for k in node.keywords):
        return {k.arg: _literal(k.value) for k in node.keywords}
    raise _NotLiteral(type(node).__name__)


def parse_config_text(text: str) -> Tuple[dict, List[str]]:
    """``({name: value}, [skipped names or statements])`` of a config's text: its literal
    top-level assignments, as plain Python values."""
    values, skipped = {}, []
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        return {}, [f'the whole text (not Python: {err.msg}, line {err.lineno})']
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            try:
                values[name] = _literal(stmt.value)
            except _NotLiteral as err:
                skipped.append(f'{name} (not a literal: {err})')
        else:
            skipped.append(f'line {stmt.lineno} ({type(stmt).__name__})')
    return values, skipped


def read_config_text(text: str):
    """:func:`parse_config_text` as an mmengine ``ConfigDict`` (attribute access, as a loaded
    config has); what was left out is under ``'_skipped'``."""
    from mmengine.config import ConfigDict
    values, skipped = parse_config_text(text if isinstance(text, str) else '')
    cfg = ConfigDict(values)
    cfg['_skipped'] = skipped
    return cfg
