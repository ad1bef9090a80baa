"""Facts about the backend that discovery shows without importing torch or
the Arm tools (``wick backends`` loads every plugin). tests/ check that these
lists agree with rules.py and with Vela."""

# Edge-dialect ops the partitioner may claim (rules.COMPUTE plus Q/DQ).
CLAIMED_OPS = [
    "aten._adaptive_avg_pool2d.default",
    "aten._unsafe_view.default",
    "aten.add.Tensor",
    "aten.addmm.default",
    "aten.alias_copy.default",
    "aten.avg_pool2d.default",
    "aten.cat.default",
    "aten.clamp.default",
    "aten.clone.default",
    "aten.convolution.default",
    "aten.hardtanh.default",
    "aten.linear.default",
    "aten.max_pool2d.default",
    "aten.max_pool2d_with_indices.default",
    "aten.mean.dim",
    "aten.mm.default",
    "aten.mul.Tensor",
    "aten.permute_copy.default",
    "aten.relu.default",
    "aten.sigmoid.default",
    "aten.squeeze_copy.dim",
    "aten.squeeze_copy.dims",
    "aten.sub.Tensor",
    "aten.tanh.default",
    "aten.unsqueeze_copy.default",
    "aten.view_copy.default",
    "quantized_decomposed.dequantize_per_channel.default",
    "quantized_decomposed.dequantize_per_tensor.default",
    "quantized_decomposed.quantize_per_tensor.default",
]

ACCELERATORS = ["ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u65-512",
                "ethos-u85-128", "ethos-u85-256", "ethos-u85-512", "ethos-u85-1024", "ethos-u85-2048"]
