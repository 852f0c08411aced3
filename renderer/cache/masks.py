"""Raw model masks (uint8, model resolution) and dedup chains in the cache.

Masks are stored as they came out of the model, quantised once: every later
stage sees the same numbers whether a mask was just inferred or read back.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np

from renderer.cache.store import Store

_SHAPE = struct.Struct(">HH")


def encode_mask(mask: np.ndarray) -> bytes:
    h, w = mask.shape
    return _SHAPE.pack(h, w) + zlib.compress(np.ascontiguousarray(mask, dtype=np.uint8).tobytes(), 6)


def decode_mask(payload: bytes) -> np.ndarray | None:
    try:
        h, w = _SHAPE.unpack_from(payload)
        data = zlib.decompress(payload[_SHAPE.size :])
    except (struct.error, zlib.error):
        return None
    if len(data) != h * w:
        return None
    return np.frombuffer(data, dtype=np.uint8).reshape(h, w)


class MaskCache:
    def __init__(self, masks: Store, chains: Store):
        self.masks = masks
        self.chains = chains

    def get(self, key: str) -> np.ndarray | None:
        payload = self.masks.get(key)
        return None if payload is None else decode_mask(payload)

    def has(self, key: str) -> bool:
        return self.masks.enabled and self.masks.path(key).is_file()

    def put(self, key: str, mask: np.ndarray) -> None:
        self.masks.put(key, encode_mask(mask))

    def get_chain(self, key: str) -> dict[int, int] | None:
        """A dedup segment's decisions: frame pts -> pts of the frame whose mask it uses."""
        payload = self.chains.get(key)
        if payload is None:
            return None
        try:
            pairs = json.loads(payload)
            return {int(pts): int(ref) for pts, ref in pairs}
        except (ValueError, TypeError):
            return None

    def put_chain(self, key: str, chain: dict[int, int]) -> None:
        self.chains.put(key, json.dumps(sorted(chain.items()), separators=(",", ":")).encode())
