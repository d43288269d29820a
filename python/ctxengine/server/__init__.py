"""The HTTP service behind ``ctxengine serve`` (FastAPI + uvicorn; ``pip install
"ctxengine[server]"``): :func:`create_app` builds the app over saved indexes, :func:`serve`
runs it. See :mod:`.app` for the endpoints and docs/server.md.
"""

from __future__ import annotations

from .app import ApiError, Limits, create_app
from .run import serve

__all__ = ["ApiError", "Limits", "create_app", "serve"]
