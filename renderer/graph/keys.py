"""Node keys: sha256 over canonical JSON of what defines a node's output."""

from __future__ import annotations

from typing import Any

from renderer.digest import canonical, digest_of

__all__ = ["canonical", "digest"]


def digest(stage: str, version: int, params: dict[str, Any]) -> str:
    return digest_of({"stage": stage, "version": version, "params": params})
