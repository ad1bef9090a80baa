"""wick.conformance — the certification suite for backend plugins (see docs/conformance.md)."""
