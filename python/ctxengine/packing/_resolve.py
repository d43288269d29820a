"""Turning the user's budget, model and tokenizer arguments into numbers and objects."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BudgetError, InvalidInputError, NotFoundError
from ..tokenizers import get_tokenizer, resolve_tokenizer
from ._tokenizer import DEFAULT_TOKENIZER, TokenizerLike
from .models import ModelProfile, get_model

__all__ = ["BudgetPlan", "choose_tokenizer", "resolve_budget"]


@dataclass(frozen=True)
class BudgetPlan:
    total: int  # the budget the caller gave (or the model's window)
    reserve: int  # kept free for the answer
    available: int  # total - reserve: what the prompt may use
    profile: ModelProfile | None


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def resolve_budget(
    budget: int | str, *, model: str | None, reserve_output: int | None
) -> BudgetPlan:
    """`budget` is a token count or a model name (its context window). `reserve_output` tokens
    are kept for the answer: by default none for a number, the model's output limit for a
    model name."""
    profile = get_model(model) if model is not None else None
    if isinstance(budget, str):
        by_name = get_model(budget)
        if profile is not None and profile is not by_name:
            raise InvalidInputError(
                f"budget names model {by_name.name!r} but model= is {profile.name!r}; give one"
            )
        profile = by_name
        total = by_name.context_window
        reserve = by_name.default_reserve if reserve_output is None else reserve_output
    elif _is_int(budget):
        total = int(budget)
        reserve = 0 if reserve_output is None else reserve_output
        if total < 0:
            raise InvalidInputError(f"the budget must be >= 0 tokens, got {total}")
        if profile is not None and total > profile.context_window:
            raise BudgetError(
                f"the budget of {total} tokens exceeds {profile.name}'s context window of "
                f"{profile.context_window}; pass at most {profile.context_window}"
            )
    else:
        raise InvalidInputError(
            f"budget must be a number of tokens or a model name, got {type(budget).__name__}"
        )
    if not _is_int(reserve) or reserve < 0:
        raise InvalidInputError(f"reserve_output must be an integer >= 0, got {reserve!r}")
    reserve = int(reserve)
    if reserve > total:
        raise BudgetError(
            f"reserve_output ({reserve}) is larger than the budget ({total}); nothing is left "
            "for the prompt"
        )
    return BudgetPlan(total, reserve, total - reserve, profile)


def choose_tokenizer(
    tokenizer: str | os.PathLike[str] | Any | None,
    *,
    profile: ModelProfile | None = None,
    index: Any = None,
) -> TokenizerLike:
    """The tokenizer to count with: the one given, else the model's, else the index's, else the
    default. A model whose tokenizer is not bundled needs it given."""
    if tokenizer is not None:
        tok = resolve_tokenizer(tokenizer)
        if not hasattr(tok, "encode"):
            raise InvalidInputError(
                "tokenizer must be a name, a path or a tokenizer object with count() and encode()"
            )
        return tok  # type: ignore[no-any-return]
    if profile is not None:
        if profile.tokenizer is None:
            raise NotFoundError(
                f"{profile.name}'s tokenizer does not ship with ctxengine: {profile.tokenizer_hint}"
            )
        return get_tokenizer(profile.tokenizer)
    index_tok = getattr(index, "tokenizer", None) if index is not None else None
    if index_tok is not None:
        return index_tok  # type: ignore[no-any-return]
    return get_tokenizer(DEFAULT_TOKENIZER)
