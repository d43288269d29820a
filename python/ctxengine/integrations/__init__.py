"""Adapters for the frameworks users already use (LangChain, LlamaIndex, Haystack, chonkie)
and a tiktoken drop-in; each imports its framework lazily.

Empty until they land; see docs/architecture.md for the package map.
"""
