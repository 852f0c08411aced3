"""vbr: declarative video background removal."""

__version__ = "0.1.0"
