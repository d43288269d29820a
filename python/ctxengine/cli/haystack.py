"""`ctxengine haystack`: generate long-context test haystacks at exact token lengths."""

from __future__ import annotations

from . import not_built

not_built("haystack", "Generate long-context test haystacks at exact token lengths.", "evaluation")
