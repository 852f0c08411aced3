"""The only package that imports PyAV: probing, decoding, encoding, audio, images."""
