"""A tiny ONNX "matting model" built in code, for tests and benchmarks that must not pay for a real one.

logit = 4 * (R - G) of the normalised input: red subjects come out near 1 after
the sigmoid, green backgrounds near 0. Needs the `onnx` package (the `dev` extra).
"""

from __future__ import annotations

from pathlib import Path


def build_redness_model(path: Path, size: int = 64) -> Path:
    """Write the model, input `x` [1,3,size,size] float32, output `y` [1,1,size,size] logits, to `path`."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Gather", ["x", "r_idx"], ["r"], axis=1),
        helper.make_node("Gather", ["x", "g_idx"], ["g"], axis=1),
        helper.make_node("Sub", ["r", "g"], ["d"]),
        helper.make_node("Mul", ["d", "k"], ["y"]),
    ]
    inits = [
        helper.make_tensor("r_idx", TensorProto.INT64, [1], [0]),
        helper.make_tensor("g_idx", TensorProto.INT64, [1], [1]),
        helper.make_tensor("k", TensorProto.FLOAT, [], [4.0]),
    ]
    graph = helper.make_graph(
        nodes,
        "redness",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, size, size])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
