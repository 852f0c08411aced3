"""The project file format: models, loading with positions, timecodes."""
