"""Agent memory in one SQLite file: episodes, temporal facts, search and packing.

Empty until the store lands; see docs/architecture.md for the package map.
"""
