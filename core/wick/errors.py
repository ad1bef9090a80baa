"""Exceptions Wick raises. Every message names what failed and what to do."""


class WickError(RuntimeError):
    """An error reported by the Wick runtime; ``code`` is the runtime's error name
    (``InvalidProgram``, ``KernelNotFound``, ``BackendNotFound``, ...)."""

    def __init__(self, message: str, code: str = "Internal"):
        super().__init__(f"{message} [{code}]")
        self.message = message
        self.code = code


class ExportError(ValueError):
    """The model cannot become a Wick program (unsupported op, dtype, shape)."""
