"""How the evaluation kit counts: the generators and context recall only ever ask "how many
tokens is this text" (of whole haystacks, of filler units in batches, of prefixes), of anything
:func:`ctxengine.tokenizers.resolve_tokenizer` accepts; a ``spans(text)`` span counter, when
present, gives token offsets.
"""

from __future__ import annotations

from ..tokenizers import TokenCounter, count_many, resolve_tokenizer, tokenizer_name

__all__ = ["TokenCounter", "count_many", "count_one", "resolve_tokenizer", "tokenizer_name"]

_BIG = 1 << 18  # characters: above this, a batching tokenizer may split the text over cores


def count_one(tokenizer: TokenCounter, text: str) -> int:
    """Tokens of `text`; a long text goes through ``count_many`` when the tokenizer has it
    (ctxengine's splits one huge text over all cores, exactly)."""
    if len(text) > _BIG and callable(getattr(tokenizer, "count_many", None)):
        return count_many(tokenizer, [text])[0]
    return int(tokenizer.count(text))
