"""YAML loading for corpus files: bounded, strict, and aware of where each mapping starts.

Corpus files are written by people and pulled from git, so the loader refuses what can hurt the bot or
hide a mistake instead of expanding or accepting it:

* anchors and aliases (``&a`` / ``*a``): a 700-byte "billion laughs" file expands to gigabytes; the
  corpus never needs them, so they are refused before anything is expanded;
* nesting deeper than ``MAX_DEPTH`` (PyYAML's composer recurses, so 5,000 ``[`` crash it);
* a key given twice in one mapping (YAML keeps the last silently: a reviewed answer can be overridden by
  a line further down);
* characters YAML does not allow (NUL, other control characters), reported with their line.

PyYAML counts ``\\r``, ``\\r\\n``, U+0085, U+2028 and U+2029 as line breaks; ``YAML_LINE_BREAKS`` and
``line_start``/``line_end`` use the same rule, so code that slices a file by position agrees with the parser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 16
YAML_LINE_BREAKS = "\r\n\x85\u2028\u2029"


class LineDict(dict):
    """A mapping from YAML that knows the (1-based) line it started on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class Refused(yaml.MarkedYAMLError):
    """Valid YAML that corpus files may not use (an anchor, an alias, deep nesting, a repeated key)."""


class _StrictComposer:
    """Composer overrides: no anchors or aliases, bounded depth."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent):
            raise Refused(None, None, "aliases (*name) are not allowed: write the value out", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise Refused(None, None, "anchors (&name) are not allowed: write the value out", event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Refused(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1


class _LineLoader(_StrictComposer, yaml.SafeLoader):
    pass


def _construct_line_dict(loader: _LineLoader, node: MappingNode) -> Any:
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    seen: dict[tuple[type, Any], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        # Compare what YAML makes of the keys: `1` and `"1"` are different keys, `a` and `"a"` the same.
        if (type(key), key) in seen:
            raise Refused(None, None, f"the key '{shorten(str(key_node.value), 60)}' appears twice in one "
                                   f"mapping (first on line {seen[type(key), key]}); YAML would silently keep only "
                                   "the last", key_node.start_mark)
        seen[type(key), key] = line
        mapping.key_lines.setdefault(str(key_node.value), line)
    yield mapping
    mapping.update(loader.construct_mapping(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_dict)


# Dates stay text: the corpus wants "2025-09-22" as written, not a datetime.date.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlProblem(Exception):
    """Why a text is not acceptable corpus YAML, with the 1-based line when known (bounded text)."""

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = shorten(reason, 200)
        super().__init__(self.reason)


def load_with_lines(text: str) -> Any:
    """Parse YAML like ``yaml.safe_load`` but strictly (see the module doc) and return ``LineDict`` mappings;
    dates stay strings. Raises ``YamlProblem``."""
    return _with_loader(text, lambda loader: loader.get_single_data())


def compose(text: str) -> Node | None:
    """The node tree of a YAML text (positions included), with the same refusals as ``load_with_lines``."""
    return _with_loader(text, lambda loader: loader.get_single_node())


def tokens(text: str) -> list[yaml.Token]:
    """Every token of a YAML text with its position; comments are not tokens, so whatever no token covers is
    whitespace or a comment. Call after ``compose`` accepted the text (scanning alone expands nothing)."""
    def scan(loader: _LineLoader) -> list[yaml.Token]:
        found = []
        while loader.check_token():
            found.append(loader.get_token())
        return found

    return _with_loader(text, scan)


def _with_loader(text: str, work: Callable[[_LineLoader], Any]) -> Any:
    try:
        loader = _LineLoader(text)  # the reader checks every character here
    except yaml.YAMLError as exc:
        raise _problem(text, exc) from None
    try:
        return work(loader)
    except yaml.YAMLError as exc:
        raise _problem(text, exc) from None
    finally:
        loader.dispose()


def _problem(text: str, exc: yaml.YAMLError) -> YamlProblem:
    if isinstance(exc, yaml.reader.ReaderError):
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return YamlProblem(yaml_line_number(text, exc.position),
                           f"the character U+{ord(character):04X} is not allowed in YAML; remove it")
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return YamlProblem(line, reason if isinstance(exc, Refused) else f"not valid YAML: {reason}")


def yaml_line_number(text: str, index: int) -> int:
    """The 1-based line of ``text[index]`` counted the way PyYAML counts (``\\r\\n`` is one break)."""
    before = text[:index]
    return 1 + sum(before.count(ch) for ch in YAML_LINE_BREAKS) - before.count("\r\n")


def line_start(text: str, index: int) -> int:
    """The index where the line holding ``text[index]`` starts."""
    while index > 0 and text[index - 1] not in YAML_LINE_BREAKS:
        index -= 1
    return index


def line_end(text: str, index: int) -> int:
    """The index just past the line break that ends the line holding ``text[index]`` (or the end of text)."""
    while index < len(text) and text[index] not in YAML_LINE_BREAKS:
        index += 1
    if text.startswith("\r\n", index):
        return index + 2
    return min(index + 1, len(text))


def last_content_index(node: Node, text: str) -> int:
    """The index of the last character that belongs to ``node`` (trailing blank lines excluded)."""
    while not getattr(node, "flow_style", False) and isinstance(node, (MappingNode, SequenceNode)) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in f" \t{YAML_LINE_BREAKS}":
        end -= 1
    return max(end - 1, node.start_mark.index)


def line_of(mapping: Any, key: str | None = None) -> int | None:
    """The line of ``key`` in ``mapping`` (or of the mapping itself), when known."""
    if not isinstance(mapping, LineDict):
        return None
    if key is not None and key in mapping.key_lines:
        return mapping.key_lines[key]
    return mapping.line or None


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: error messages stay small whatever the input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
