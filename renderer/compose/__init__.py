"""Compositing: pure functions on numpy arrays (resize, blur, backgrounds, alpha)."""
