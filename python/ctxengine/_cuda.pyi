"""
ctxengine CUDA kernels
"""

from __future__ import annotations

import typing

__all__: list[str] = [
    "attn_hamming_topk",
    "attn_hash_codes",
    "attn_page_meta",
    "attn_quest_scores",
    "attn_select_pages",
    "attn_vertical_slash",
    "device_count",
    "device_name",
    "inner_product_topk",
    "max_k",
]

def attn_hamming_topk(
    q_codes: typing.SupportsInt | typing.SupportsIndex,
    hq: typing.SupportsInt | typing.SupportsIndex,
    nq: typing.SupportsInt | typing.SupportsIndex,
    k_codes: typing.SupportsInt | typing.SupportsIndex,
    hkv: typing.SupportsInt | typing.SupportsIndex,
    nk: typing.SupportsInt | typing.SupportsIndex,
    words: typing.SupportsInt | typing.SupportsIndex,
    top_k: typing.SupportsInt | typing.SupportsIndex,
    out: typing.SupportsInt | typing.SupportsIndex,
    counts: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None: ...
def attn_hash_codes(
    x: typing.SupportsInt | typing.SupportsIndex,
    f16: bool,
    n: typing.SupportsInt | typing.SupportsIndex,
    dim: typing.SupportsInt | typing.SupportsIndex,
    planes: typing.SupportsInt | typing.SupportsIndex,
    bits: typing.SupportsInt | typing.SupportsIndex,
    out: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None: ...
def attn_page_meta(
    keys: typing.SupportsInt | typing.SupportsIndex,
    f16: bool,
    heads: typing.SupportsInt | typing.SupportsIndex,
    n_new: typing.SupportsInt | typing.SupportsIndex,
    dim: typing.SupportsInt | typing.SupportsIndex,
    page_size: typing.SupportsInt | typing.SupportsIndex,
    old_keys: typing.SupportsInt | typing.SupportsIndex,
    kmin: typing.SupportsInt | typing.SupportsIndex,
    kmax: typing.SupportsInt | typing.SupportsIndex,
    capacity: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None: ...
def attn_quest_scores(
    q: typing.SupportsInt | typing.SupportsIndex,
    q_f16: bool,
    hq: typing.SupportsInt | typing.SupportsIndex,
    nq: typing.SupportsInt | typing.SupportsIndex,
    dim: typing.SupportsInt | typing.SupportsIndex,
    kmin: typing.SupportsInt | typing.SupportsIndex,
    kmax: typing.SupportsInt | typing.SupportsIndex,
    meta_f16: bool,
    hkv: typing.SupportsInt | typing.SupportsIndex,
    pages: typing.SupportsInt | typing.SupportsIndex,
    capacity: typing.SupportsInt | typing.SupportsIndex,
    out: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None: ...
def attn_select_pages(
    scores: typing.SupportsInt | typing.SupportsIndex,
    rows: typing.SupportsInt | typing.SupportsIndex,
    nq: typing.SupportsInt | typing.SupportsIndex,
    pages: typing.SupportsInt | typing.SupportsIndex,
    nk: typing.SupportsInt | typing.SupportsIndex,
    page_size: typing.SupportsInt | typing.SupportsIndex,
    budget: typing.SupportsInt | typing.SupportsIndex,
    sink: typing.SupportsInt | typing.SupportsIndex,
    local: typing.SupportsInt | typing.SupportsIndex,
    out: typing.SupportsInt | typing.SupportsIndex,
    counts: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None: ...
def attn_vertical_slash(
    q: typing.SupportsInt | typing.SupportsIndex,
    q_f16: bool,
    k: typing.SupportsInt | typing.SupportsIndex,
    k_f16: bool,
    hq: typing.SupportsInt | typing.SupportsIndex,
    hkv: typing.SupportsInt | typing.SupportsIndex,
    nq: typing.SupportsInt | typing.SupportsIndex,
    nk: typing.SupportsInt | typing.SupportsIndex,
    dim: typing.SupportsInt | typing.SupportsIndex,
    last_q: typing.SupportsInt | typing.SupportsIndex,
    scale: typing.SupportsFloat | typing.SupportsIndex,
    n_vertical: typing.SupportsInt | typing.SupportsIndex,
    n_slash: typing.SupportsInt | typing.SupportsIndex,
    sink: typing.SupportsInt | typing.SupportsIndex,
    local: typing.SupportsInt | typing.SupportsIndex,
    vertical: typing.SupportsInt | typing.SupportsIndex,
    slash: typing.SupportsInt | typing.SupportsIndex,
    sums_v: typing.SupportsInt | typing.SupportsIndex,
    sums_s: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None: ...
def device_count() -> int:
    """
    Usable CUDA devices (0 without a driver or GPU).
    """

def device_name(device: typing.SupportsInt | typing.SupportsIndex = 0) -> str: ...
def inner_product_topk(
    queries: typing.SupportsInt | typing.SupportsIndex,
    nq: typing.SupportsInt | typing.SupportsIndex,
    base: typing.SupportsInt | typing.SupportsIndex,
    n: typing.SupportsInt | typing.SupportsIndex,
    dim: typing.SupportsInt | typing.SupportsIndex,
    k: typing.SupportsInt | typing.SupportsIndex,
    out_scores: typing.SupportsInt | typing.SupportsIndex,
    out_ids: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None:
    """
    GPU exact inner-product top-k over device pointers (float32 row-major; ids int64).
    """

max_k: int = 2048
