"""Sparse-attention scoring: which KV pages, blocks and keys attention should read.

Empty until the kernels land; see docs/architecture.md for the package map.
"""
