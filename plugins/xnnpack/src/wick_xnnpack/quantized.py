"""int8: quantize/dequantize patterns lowered onto XNNPACK's quantized operators (placeholder)."""
NOT_QUANTIZED = object()


def refusal(node, ctx):
    return NOT_QUANTIZED


def input_value(conv, placeholder, meta):
    return None


def output_binding(conv, value):
    return False


def foldable(node):
    return True


def lower(conv, node):
    return False
