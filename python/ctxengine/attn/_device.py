"""GPU paths placeholder (replaced below)."""
