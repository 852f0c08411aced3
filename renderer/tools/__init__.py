"""Maintainer tools that make the package's own artefacts (not needed at render time)."""
