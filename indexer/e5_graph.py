"""The encoder of multilingual-e5-small as an ONNX graph, for onnxruntime.

The graph takes the embedded tokens (after the embedding layer norm, `[batch, length, hidden]`,
right-padded) and each segment's length, and returns the last hidden states. Each layer is three
of onnxruntime's fused CPU operators and three matrix products:

    Attention(x, Wqkv, bqkv, lengths) -> MatMul Wo -> SkipLayerNormalization(+x, +bo)
    -> MatMul Wi -> BiasGelu(+bi) -> MatMul Wf -> SkipLayerNormalization(+x, +bf)

`Attention` with a 1-D `mask_index` treats the positions past each length as padding, so a batch of
questions of different lengths is one product per layer. The weights are written into the graph one
layer at a time as raw float32 bytes: the float32 copy of a layer exists only while it is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper

_MS = "com.microsoft"  # onnxruntime's contrib operator domain
OPSET = 17


@dataclass(frozen=True)
class LayerWeights:
    """One encoder layer, matrices input-major (`x @ W`)."""

    qkv: np.ndarray  # [H, 3H]: query, key and value side by side
    qkv_b: np.ndarray
    out: np.ndarray  # [H, H]
    out_b: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    ff_in: np.ndarray  # [H, FF]
    ff_in_b: np.ndarray
    ff_out: np.ndarray  # [FF, H]
    ff_out_b: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


def encoder_model(layers: Iterable[LayerWeights], hidden: int, heads: int, eps: float) -> bytes:
    """The serialised ONNX model of the encoder: input `x` (float32 [B, L, hidden]) and `lengths`
    (int32 [B]); output `y` (float32 [B, L, hidden])."""
    # the graph is filled in place inside the model: make_model would copy a filled graph whole
    model = helper.make_model(helper.make_graph(
        [], "multilingual-e5-small-encoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length", hidden]),
         helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "length", hidden])]),
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(_MS, 1)],
        producer_name="hai-phong-policy-assistant")
    graph = model.graph

    def weight(name: str, array: np.ndarray) -> str:
        tensor = graph.initializer.add()
        tensor.name, tensor.data_type = name, TensorProto.FLOAT
        tensor.dims.extend(array.shape)
        tensor.raw_data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: object) -> str:
        domain = _MS if op in ("Attention", "SkipLayerNormalization", "BiasGelu") else ""
        graph.node.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    x = "x"
    count = 0
    for i, layer in enumerate(layers):
        p = f"layer{i}."
        attended = node("Attention", [x, weight(p + "qkv", layer.qkv), weight(p + "qkv_b", layer.qkv_b), "lengths"],
                        p + "attention", num_heads=heads)
        projected = node("MatMul", [attended, weight(p + "out", layer.out)], p + "projected")
        x1 = node("SkipLayerNormalization", [projected, x, weight(p + "ln1.w", layer.ln1[0]),
                                             weight(p + "ln1.b", layer.ln1[1]), weight(p + "out_b", layer.out_b)],
                  p + "x1", epsilon=eps)
        widened = node("MatMul", [x1, weight(p + "ff_in", layer.ff_in)], p + "widened")
        activated = node("BiasGelu", [widened, weight(p + "ff_in_b", layer.ff_in_b)], p + "activated")
        narrowed = node("MatMul", [activated, weight(p + "ff_out", layer.ff_out)], p + "narrowed")
        x = node("SkipLayerNormalization", [narrowed, x1, weight(p + "ln2.w", layer.ln2[0]),
                                            weight(p + "ln2.b", layer.ln2[1]), weight(p + "ff_out_b", layer.ff_out_b)],
                 p + "x2", epsilon=eps)
        count += 1
    if not count:
        raise ValueError("an encoder needs at least one layer")
    node("Identity", [x], "y")
    return model.SerializeToString()
