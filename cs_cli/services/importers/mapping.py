"""Map files (`--map MAP.yaml`): rename columns, translate values, compute
fields from other columns.

    columns:  {customerID: external_id, Churn: status, InternalNote: null}
    values:   {status: {"Yes": churned, "No": active}}
    computed: {arr: MonthlyCharges * 12}

Column renames apply first; value maps are keyed by the renamed (model)
field. A column mapped to null is dropped. A computed field is an
expression over the file's own column names (see expressions.py); it
takes the place of any column that would feed the same field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cs_cli.errors import FileError
from cs_cli.services.importers.expressions import Expression, ExpressionError, parse_expression
from cs_cli.specs.documents import load_yaml_file

_YES = ("true", "yes", "y", "on")
_NO = ("false", "no", "n", "off")


@dataclass(frozen=True)
class ImportMap:
    columns: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    computed: dict[str, Expression] = field(default_factory=dict)
    # Where each computed field is written, for errors: (map file, line).
    computed_at: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    def target(self, column: str) -> str | None:
        """The field a source column feeds (None: dropped)."""
        return self.columns.get(column, column)

    def value_map(self, field_name: str) -> dict[str, Any] | None:
        return self.values.get(field_name)


def _key_variants(key: Any) -> list[str]:
    # YAML 1.1 reads an unquoted Yes/No as a boolean; accept what was meant.
    if key is True:
        return [v for k in _YES for v in (k, k.capitalize(), k.upper())]
    if key is False:
        return [v for k in _NO for v in (k, k.capitalize(), k.upper())]
    return [str(key)]


def _line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _find(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in node.value:
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def load_map(path: Path) -> ImportMap:
    """Read and check a map file; errors name file, line and key."""
    where = str(path)
    if not path.is_file():
        raise FileError(where, None, None, "no such map file")
    data, root = load_yaml_file(path)
    if data is None:
        return ImportMap()
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise FileError(where, 1, None, "expected a mapping with 'columns' and/or 'values'")
    for key in data:
        if key not in ("columns", "values", "computed"):
            raise FileError(
                where,
                _line_of(_find(root, key)),
                None,
                f"unknown key '{key}' (expected columns, values, computed)",
            )

    columns_raw = data.get("columns") or {}
    if not isinstance(columns_raw, dict):
        raise FileError(
            where, _line_of(_find(root, "columns")), None, "'columns' must map source names to fields"
        )
    columns: dict[str, str | None] = {}
    for source, target in columns_raw.items():
        if target is not None and not isinstance(target, str):
            node = _find(root, "columns")
            raise FileError(where, _line_of(node), None, f"columns.{source}: must be a field name or null")
        columns[str(source)] = target

    values_raw = data.get("values") or {}
    if not isinstance(values_raw, dict):
        raise FileError(
            where, _line_of(_find(root, "values")), None, "'values' must map fields to value maps"
        )
    values: dict[str, dict[str, Any]] = {}
    for field_name, mapping in values_raw.items():
        if not isinstance(mapping, dict):
            node = _find(root, "values")
            raise FileError(
                where, _line_of(node), None, f"values.{field_name}: must map raw values to values"
            )
        translated: dict[str, Any] = {}
        for raw, value in mapping.items():
            for variant in _key_variants(raw):
                translated[variant] = value
        values[str(field_name)] = translated
    computed, computed_at = _computed(where, root, data.get("computed"))
    return ImportMap(columns=columns, values=values, computed=computed, computed_at=computed_at)


def _computed(where: str, root: yaml.MappingNode, raw: Any):
    """The computed fields, each expression checked; errors at its line and column."""
    if raw is None:
        return {}, {}
    node = _find(root, "computed")
    if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
        raise FileError(where, _line_of(node), None, "'computed' must map fields to expressions")
    computed: dict[str, Expression] = {}
    computed_at: dict[str, tuple[str, int | None]] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        line = _line_of(value_node)
        text = raw.get(key_node.value, raw.get(name))
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            raise FileError(
                where, line, None, f"computed.{name}: must be an expression, e.g. MonthlyCharges * 12"
            )
        try:
            computed[name] = parse_expression(str(text))
        except ExpressionError as exc:
            column = None
            if exc.column is not None and value_node.style is None:
                column = value_node.start_mark.column + exc.column
            raise FileError(where, line, column, f"computed.{name}: {exc}") from None
        computed_at[name] = (where, line)
    return computed, computed_at
