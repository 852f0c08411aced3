"""Matting models: the registry, the onnxruntime session, temporal smoothing."""
