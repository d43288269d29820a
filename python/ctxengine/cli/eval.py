"""`ctxengine eval`: measure context recall of a retrieval pipeline over haystacks."""

from __future__ import annotations

from . import not_built

not_built("eval", "Measure context recall of a retrieval pipeline over haystacks.", "evaluation")
