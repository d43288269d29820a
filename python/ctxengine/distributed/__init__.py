"""Sharded indexing and search, in-process or on Ray, with the same answers as one Index.

Empty until it lands; see docs/architecture.md for the package map.
"""
