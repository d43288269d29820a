"""An exact-budget context manager for agents.

Empty until it lands; see docs/architecture.md for the package map.
"""
