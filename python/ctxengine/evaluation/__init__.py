"""Measuring long-context pipelines: context recall, model scores, public datasets.

- :func:`context_recall`: which gold facts of a haystack survived into a prompt, where they sit
  (str and token offsets) and how many tokens the prompt used.
- :func:`evaluate`: pipelines (ctxengine's BM25 / dense / hybrid packing, cut-to-budget, or any
  callable) over a grid of haystack lengths, depths and budgets; a :class:`Report` prints the
  recall table and draws the NIAH heatmap.
- Models are optional: pass any ``llm(messages) -> str`` callable or an :class:`OpenAIClient`,
  and answers are scored RULER-style (:func:`score`).
- :func:`generate_conversation`: long multi-session conversations with dated sessions, facts
  that change over time and questions with known evidence turns (for memory);
  :func:`generate_agent_trace`: long tool-using agent traces (for context management);
- :func:`load_dataset`: LongBench, L-Eval, LooGLE and LoCoMo files the user has, as
  :class:`Example` objects; :func:`evaluate_examples` builds their prompts at a budget.

>>> from ctxengine.evaluation import context_recall
>>> context_recall("... the code is 42 ...", ["the code is 42"]).recall
1.0
"""

from __future__ import annotations

from .agent_traces import TraceEvent, generate_agent_trace
from .conversations import (
    Conversation,
    Question,
    Turn,
    conversation_from_locomo,
    generate_conversation,
)
from .datasets import (
    Example,
    load_dataset,
    load_leval,
    load_locomo,
    load_longbench,
    load_loogle,
)
from .llm import LLM, OpenAIClient, prompt_messages
from .pipelines import PIPELINES, Pipeline, get_pipeline
from .recall import FactRecall, Recall, context_recall, find_fact
from .report import Report, Row
from .runner import evaluate, evaluate_examples, evaluate_haystacks, run_haystack
from .scoring import score, string_match_all, string_match_part

__all__ = [
    "LLM",
    "PIPELINES",
    "Conversation",
    "Example",
    "FactRecall",
    "OpenAIClient",
    "Pipeline",
    "Question",
    "Recall",
    "Report",
    "Row",
    "TraceEvent",
    "Turn",
    "context_recall",
    "conversation_from_locomo",
    "evaluate",
    "evaluate_examples",
    "evaluate_haystacks",
    "find_fact",
    "generate_agent_trace",
    "generate_conversation",
    "get_pipeline",
    "load_dataset",
    "load_leval",
    "load_locomo",
    "load_longbench",
    "load_loogle",
    "prompt_messages",
    "run_haystack",
    "score",
    "string_match_all",
    "string_match_part",
]
