"""pytest plugin entry point (inert unless --wick-backend is given)."""
