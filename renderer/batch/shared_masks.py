"""The masks a group's first row used, handed to the group's other rows on any node.

Rows of one matte group (same source, model, dedup) need the same raw masks.
On one machine they meet in the mask cache; on a cluster without a shared
cache the first row's node records every mask and dedup chain its render read
or wrote, and the other rows' nodes put them into their own caches before
rendering, so they infer nothing the first row already inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from renderer.cache.masks import MaskCache, decode_mask, encode_mask


@dataclass
class SharedMasks:
    """Cache entries by key: encoded masks (as the cache stores them) and dedup chains."""

    masks: dict[str, bytes] = field(default_factory=dict)
    chains: dict[str, dict[int, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.masks)


class RecordingMaskCache(MaskCache):
    """A MaskCache that keeps a copy of every mask and chain a render reads or writes."""

    def __init__(self, cache: MaskCache):
        super().__init__(cache.masks, cache.chains)
        self.used = SharedMasks()

    def get(self, key: str) -> np.ndarray | None:
        payload = self.masks.get(key)
        if payload is None:
            return None
        mask = decode_mask(payload)
        if mask is not None:
            self.used.masks[key] = payload
        return mask

    def put(self, key: str, mask: np.ndarray) -> None:
        payload = encode_mask(mask)
        self.used.masks[key] = payload  # kept even when the store is off: the other rows still get it
        self.masks.put(key, payload)

    def get_chain(self, key: str) -> dict[int, int] | None:
        chain = super().get_chain(key)
        if chain is not None:
            self.used.chains[key] = dict(chain)
        return chain

    def put_chain(self, key: str, chain: dict[int, int]) -> None:
        self.used.chains[key] = dict(chain)
        super().put_chain(key, chain)


def seed(cache: MaskCache, shared: SharedMasks) -> int:
    """Put the shared entries this cache lacks into it; returns how many masks were added.

    A chain replaces a shorter one only: decisions for a frame never differ, a
    longer chain just covers more of its segment.
    """
    added = 0
    for key, payload in shared.masks.items():
        if not cache.has(key):
            cache.masks.put(key, payload)
            added += 1
    for key, chain in shared.chains.items():
        known = cache.get_chain(key)
        if known is None or len(known) < len(chain):
            cache.put_chain(key, {**(known or {}), **chain})
    return added
