"""YAML loading that remembers where each mapping starts, so problems can name a line."""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A mapping from YAML that knows the (1-based) line it started on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_line_dict(loader: _LineLoader, node: yaml.MappingNode) -> Any:
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(key_node.value): key_node.start_mark.line + 1 for key_node, _ in node.value}
    yield mapping
    mapping.update(loader.construct_mapping(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_dict)


# Dates stay text: the corpus wants "2025-09-22" as written, not a datetime.date.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_with_lines(text: str) -> Any:
    """Parse YAML like ``yaml.safe_load`` but return ``LineDict`` mappings; dates stay strings."""
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass


def line_of(mapping: Any, key: str | None = None) -> int | None:
    """The line of ``key`` in ``mapping`` (or of the mapping itself), when known."""
    if not isinstance(mapping, LineDict):
        return None
    if key is not None and key in mapping.key_lines:
        return mapping.key_lines[key]
    return mapping.line or None
