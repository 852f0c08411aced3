"""The render graph: nodes, keys, compilation from a project, execution."""
