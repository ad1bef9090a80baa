"""The ATen operators the Vulkan shaders cover (names only: importable
without torch, for the plugin descriptor)."""

UNARY = ["relu", "hardtanh", "clamp", "sigmoid", "tanh", "gelu", "silu", "rsqrt", "sqrt", "exp", "neg", "abs",
         "log", "hardswish", "hardsigmoid", "reciprocal", "pow.Tensor_Scalar"]
BINARY = ["add.Tensor", "add.Scalar", "sub.Tensor", "sub.Scalar", "mul.Tensor", "mul.Scalar", "div.Tensor",
          "div.Scalar", "maximum", "minimum"]
COMPUTE = ["convolution (2-D, groups/depthwise; batch norm folded)", "_native_batch_norm_legit_no_training",
           "mm", "bmm", "addmm", "linear", "max_pool2d_with_indices (values)", "avg_pool2d", "mean.dim",
           "sum.dim_IntList", "amax", "amin", "_softmax", "_log_softmax", "embedding"]
COPIES = ["view_copy", "_unsafe_view", "alias_copy", "clone", "squeeze_copy", "unsqueeze_copy", "permute_copy",
          "expand_copy", "slice_copy", "select_copy", "cat", "split_with_sizes_copy", "split_copy",
          "transpose_copy", "t_copy", "_to_copy (float32 <-> float16)"]
SUPPORTED_OP_NAMES = [f"aten.{n}" for n in UNARY + BINARY + COMPUTE + COPIES]
