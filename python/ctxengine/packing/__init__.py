"""Packing: the exact prompt for any model backend, to the token.

- :func:`pack` selects, orders and renders context for a query within a token budget;
- :func:`fit` cuts one long text to a budget (head, tail, middle or head and tail);
- :func:`check_citations` checks an answer's ``[n]`` citations against a pack's sources;
- :func:`plan_chain` / :func:`run_chain` split a long input across Chain-of-Agents workers;
- :func:`get_model` / :func:`models` hold the built-in model profiles.
"""

from __future__ import annotations

from .chain import ChainPlan, ChainResult, plan_chain, run_chain
from .citations import CitationCheck, check_citations
from .fit import Fitted, fit
from .formats import FORMATS, ChatTemplate
from .models import ModelProfile, get_model, models
from .pack import ORDERS, Packed, Source, pack

__all__ = [
    "FORMATS",
    "ORDERS",
    "ChainPlan",
    "ChainResult",
    "ChatTemplate",
    "CitationCheck",
    "Fitted",
    "ModelProfile",
    "Packed",
    "Source",
    "check_citations",
    "fit",
    "get_model",
    "models",
    "pack",
    "plan_chain",
    "run_chain",
]
