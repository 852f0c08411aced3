"""YAML to plain data, remembering where every key and value came from.

jsonschema and pydantic report errors by path (("export", "fps")); this map
turns such a path back into FILE:LINE:COL so the user sees where to look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from renderer.errors import Position, Problem, ProjectError

Path = tuple[Any, ...]

# Beyond this many nodes (aliases counted each time they are expanded) a
# document is refused: a few hundred lines of project never come close, an
# alias bomb does at once.
MAX_DEPTH = 64  # a project file needs fewer than 10
MAX_NODES = 100_000


@dataclass
class Located:
    """Plain data plus the position of each path's key and value."""

    data: Any
    file: str
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def value_at(self, path: Path) -> Position:
        """The value's position, or the nearest enclosing one we know."""
        for end in range(len(path), -1, -1):
            found = self.values.get(tuple(path[:end]))
            if found:
                return found
        return Position(self.file, 1, 1)

    def key_at(self, path: Path) -> Position:
        """Where the key of this path is written (for unknown-key errors)."""
        return self.keys.get(tuple(path)) or self.value_at(path)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, file: str):
        self.loader = loader
        self.file = file
        self.located = Located(data=None, file=file)
        self.visited = 0

    def pos(self, node: yaml.Node) -> Position:
        mark = node.start_mark
        return Position(self.file, mark.line + 1, mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise ProjectError(
                [Problem(self.pos(node), f"document too large (over {MAX_NODES} nodes, aliases expanded)")]
            )
        self.located.values[path] = self.pos(node)
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.construct(node)

    def construct(self, node: yaml.Node) -> Any:
        """A scalar's value; one Python will not make (a 5000-digit integer, 2001-02-30) is a located error."""
        try:
            return self.loader.construct_object(node)
        except ValueError as exc:
            if node.tag == "tag:yaml.org,2002:int":
                message = f"a {sum(c.isdigit() for c in node.value)}-digit number is too large"
            elif node.tag == "tag:yaml.org,2002:timestamp":
                message = f"{node.value!r} reads as a date, and is not one ({exc}); quote it to mean the text"
            else:
                message = f"cannot read {node.value!r} ({exc})"
            raise ProjectError([Problem(self.pos(node), message)]) from None

    def build_mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<:` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct(key_node)
            if not isinstance(key, str):
                raise ProjectError([Problem(self.pos(key_node), f"keys must be strings, not {key!r}")])
            if key in result:
                raise ProjectError([Problem(self.pos(key_node), f"duplicate key '{key}'")])
            self.located.keys[path + (key,)] = self.pos(key_node)
            result[key] = self.build(value_node, path + (key,))
        return result


def _offset_position(text: str, file: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return Position(file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _check_depth(text: str, file: str) -> None:
    """Refuse absurd nesting before PyYAML's recursive composer can overflow the stack.

    The event stream is flat, so walking it costs no recursion.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise ProjectError([Problem(Position(file, mark.line + 1, mark.column + 1), f"nested more than {MAX_DEPTH} levels deep")])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def load_yaml(text: str, file: str) -> Located:
    """Parse one YAML document; syntax errors become located ProjectErrors."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character YAML forbids
        raise ProjectError([Problem(_offset_position(text, file, exc.position), f"YAML: character {exc.character!r} is not allowed in YAML")]) from None
    try:
        _check_depth(text, file)
        node = loader.get_single_node()
        if node is None:
            raise ProjectError([Problem(Position(file, 1, 1), "the file is empty")])
        builder = _Builder(loader, file)
        builder.located.data = builder.build(node, ())
        return builder.located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        raise ProjectError([Problem(where, f"YAML syntax: {exc.problem or exc.context}")]) from None
    except yaml.reader.ReaderError as exc:
        raise ProjectError([Problem(_offset_position(text, file, exc.position), f"YAML: character {exc.character!r} is not allowed in YAML")]) from None
    except yaml.YAMLError as exc:
        raise ProjectError([Problem(Position(file, 1, 1), f"YAML: {exc}")]) from None
    finally:
        loader.dispose()
