"""Metadata filters: which documents a search may return, as a bool mask over positions.

A filter is a mapping ``{key: value}`` (or ``{key: [accepted values]}``), all keys must match,
or any callable on a document's metadata. Filters are applied inside each search, so a
filtered search returns the true top k among the matching documents.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .records import Records

__all__ = ["Filter", "doc_mask"]

Filter = Mapping[str, Any] | Callable[[Mapping[str, Any]], bool]

_MISSING = object()


def doc_mask(records: Records, filter: Filter | None) -> np.ndarray | None:
    """The live documents `filter` keeps, as a bool mask over positions (None: no filter)."""
    if filter is None:
        return None
    if callable(filter):  # any Python: called on every live document's metadata
        return np.fromiter(
            (a and bool(filter(m)) for a, m in zip(records.alive, records.meta, strict=True)),
            dtype=bool,
            count=len(records.alive),
        )
    if not isinstance(filter, Mapping):
        raise InvalidInputError("filter must be a mapping of metadata values or a callable")
    mask = records.alive_mask().copy()
    for key, value in filter.items():
        accepted = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        mask &= _matching(records, key, list(accepted))
    return mask


def _matching(records: Records, key: Any, accepted: list[Any]) -> np.ndarray:
    """Documents whose ``metadata[key]`` equals one of `accepted` (Python ``==``).

    Each key used in a filter gets a column of value codes, made in one pass over the metadata
    and kept until documents are added, so a search compares codes in NumPy instead of calling
    Python per document. Unhashable values (lists, dicts) are compared one by one.
    """
    metas = records.meta
    column = records.meta_codes.get(key)
    if column is None:
        codes: dict[Any, int] = {}
        values = np.full(len(metas), -1, dtype=np.int32)
        for i, meta in enumerate(metas):
            got = meta.get(key, _MISSING)
            if got is not _MISSING:
                with contextlib.suppress(TypeError):  # unhashable: never equals a hashable
                    values[i] = codes.setdefault(got, len(codes))
        column = records.meta_codes[key] = (codes, values)
    codes, values = column
    wanted, loose = [], []
    for v in accepted:
        try:
            if v in codes:
                wanted.append(codes[v])
        except TypeError:
            loose.append(v)
    mask = np.isin(values, wanted) if wanted else np.zeros(len(values), dtype=bool)
    for v in loose:
        mask |= np.fromiter(
            (m.get(key, _MISSING) == v for m in metas), dtype=bool, count=len(metas)
        )
    return mask
