"""Context management for agents: a running conversation sent within an exact budget.

- :class:`ContextManager`: add messages (system, user, assistant with tool calls, tool
  results, thinking), render them as OpenAI, Anthropic or ChatML messages counted exactly and
  never over ``budget - reserve``;
- policies: :class:`ClearToolResults`, :class:`ClearThinking`, :class:`Compact`,
  :class:`Offload`.

See docs/memory.md.
"""

from __future__ import annotations

from .manager import ContextManager, Rendering, default_policies
from .messages import AGENT_FORMATS, Message, ToolCall
from .policies import ClearThinking, ClearToolResults, Compact, Offload, Policy
from .summarize import extractive_summary
from .view import Edit

__all__ = [
    "AGENT_FORMATS",
    "ClearThinking",
    "ClearToolResults",
    "Compact",
    "ContextManager",
    "Edit",
    "Message",
    "Offload",
    "Policy",
    "Rendering",
    "ToolCall",
    "default_policies",
    "extractive_summary",
]
