"""The persistent, content-addressed cache: masks, dedup chains, source hashes."""
