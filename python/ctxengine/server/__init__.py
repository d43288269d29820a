"""The HTTP service (FastAPI + uvicorn) behind ``ctxengine serve``.

Empty until it lands; see docs/architecture.md for the package map.
"""
