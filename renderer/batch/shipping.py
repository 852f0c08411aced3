"""The files a compiled row reads, and its graph pointed at another machine's copies of them.

A Ray node does not see the driver's files. Every file a graph reads is named
in it by its content hash next to its path (paths are unkeyed: they locate
data, they do not define results), so a node can hold a copy under any name
and run the very same graph: same key, same output bytes, same manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from renderer.graph.nodes import Audio, BackgroundVideo, Composite, Decode, Encode, Matte, Node, Overlay
from renderer.matting.registry import ModelSpec


@dataclass(frozen=True)
class Input:
    """One file a row reads: its content hash, where the driver has it, and its suffix."""

    sha256: str
    path: Path

    @property
    def name(self) -> str:
        """A node's name for its copy: the hash, with the suffix some readers look at."""
        return self.sha256 + self.path.suffix.lower()


def graph_inputs(graph: Encode) -> list[Input]:
    """Every file the graph reads (source, background image or video, fonts, model weights), each once."""
    found: dict[str, Input] = {}

    def visit(node: Node) -> None:
        for sha, path in _files(node):
            found.setdefault(sha, Input(sha, Path(path)))
        for child in node.inputs():
            if child is not None:
                visit(child)

    visit(graph)
    return list(found.values())


def relocate(graph: Encode, copies: Mapping[str, Path], output: Path) -> Encode:
    """The same graph reading `copies` (content hash -> local file) and writing `output`.

    `output` must keep the export's file name: the manifest records it.
    """
    if output.name != Path(graph.path).name:
        raise ValueError(f"a relocated output keeps its name: {output.name} is not {Path(graph.path).name}")
    moved = _relocate(graph, copies, output)
    assert isinstance(moved, Encode) and moved.key() == graph.key(), "relocation changed the graph's key"
    return moved


def _files(node: Node) -> list[tuple[str, str]]:
    """(content hash, path) of each file this node itself reads."""
    if isinstance(node, (Decode, Audio, BackgroundVideo)):
        return [(node.sha256, node.path)]
    if isinstance(node, Composite) and node.image is not None and node.image_sha256 is not None:
        return [(node.image_sha256, node.image)]
    if isinstance(node, Overlay):
        return [(spec.font, font) for spec, font in zip(node.texts, node.fonts) if font is not None and spec.font is not None]
    if isinstance(node, Matte):
        weights = model_file(node.model)
        return [] if weights is None else [(node.model.sha256, str(weights))]
    return []


def model_file(spec: ModelSpec) -> Path | None:
    """The weights file a model is loaded from; None for an embedded model (every node has it)."""
    if spec.embedded:
        return None
    if spec.path is not None:
        return spec.path
    from renderer.matting.store import weights_path

    return weights_path(spec)


def _relocate(node: Node, copies: Mapping[str, Path], output: Path) -> Node:
    changes: dict[str, object] = {
        name: _relocate(child, copies, output)
        for name in node.INPUTS
        if (child := getattr(node, name)) is not None
    }
    if isinstance(node, (Decode, Audio, BackgroundVideo)):
        changes["path"] = str(copies[node.sha256])
    elif isinstance(node, Composite) and node.image is not None and node.image_sha256 is not None:
        changes["image"] = str(copies[node.image_sha256])
    elif isinstance(node, Overlay):
        changes["fonts"] = tuple(
            None if font is None or spec.font is None else str(copies[spec.font]) for spec, font in zip(node.texts, node.fonts)
        )
    elif isinstance(node, Matte) and model_file(node.model) is not None:
        changes["model"] = replace(node.model, path=copies[node.model.sha256])
    elif isinstance(node, Encode):
        changes["path"] = str(output)
    return replace(node, **changes)
