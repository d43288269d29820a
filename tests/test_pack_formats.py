"""Prompt formats: Hugging Face chat templates rendered exactly as transformers renders them
(the oracle is transformers' own renderer), counted with the model's special tokens; ChatML;
OpenAI's per-message overhead; loading templates from model folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ctxengine
from ctxengine.packing.formats import Renderer
from pack_support import StandInIndex, encoding, hf_tokenizer, tokenizer

render_jinja_template = pytest.importorskip(
    "transformers.utils.chat_template_utils"
).render_jinja_template

# Templates in the styles of common model families (written for these tests): ChatML with a
# default system prompt, Llama-3 headers with a BOS token, Mistral-style [INST] blocks that
# insist on alternating roles, and one that uses namespace, loop controls and tojson.
TEMPLATES = {
    "chatml": (
        "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are helpful.<|im_end|>\n"
        "{% endif %}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
        "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "headers": (
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
        "<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n"
        "{% endif %}"
    ),
    "inst": (
        "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
        "{% set rest = messages[1:] %}{% else %}{% set system = '' %}{% set rest = messages %}"
        "{% endif %}{{ bos_token }}{% for m in rest %}"
        "{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('roles must alternate user/assistant') }}{% endif %}"
        "{% if m['role'] == 'user' %}[INST] {% if loop.first and system %}{{ system }}\n\n"
        "{% endif %}{{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{{ eos_token }}"
        "{% endif %}{% endfor %}"
    ),
    "namespace": (
        "{%- set ns = namespace(n=0) -%}\n"
        "{%- for m in messages -%}\n"
        "  {%- if m.role == 'tool' %}{% continue %}{% endif -%}\n"
        "  {%- set ns.n = ns.n + 1 -%}\n"
        "  <|im_start|>{{ m.role }} #{{ ns.n }} {{ {'len': m.content | length} | tojson }}\n"
        "  {{ m.content }}<|im_end|>\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
}
SPECIALS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}

messages_strategy = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant"]), "content": st.text(max_size=40)}
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60)
@given(
    name=st.sampled_from(sorted(TEMPLATES)),
    system=st.one_of(st.just(""), st.text(max_size=30)),
    messages=messages_strategy,
)
def test_chat_template_renders_as_transformers(name: str, system: str, messages: list) -> None:
    if system:
        messages = [{"role": "system", "content": system}, *messages]
    template = ctxengine.ChatTemplate(TEMPLATES[name], special_tokens=SPECIALS)
    try:
        expected = render_jinja_template(
            [messages], chat_template=TEMPLATES[name], add_generation_prompt=True, **SPECIALS
        )[0][0]
    except Exception as exc:  # the template refuses (roles that do not alternate)
        with pytest.raises(ctxengine.FormatError, match="refused"):
            template.render(messages)
        assert "alternate" in str(exc)
        return
    assert template.render(messages) == expected


@pytest.mark.parametrize("impl", ["tiktoken", "ctxengine"])
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_pack_hf_counts_the_rendered_template(name: str, impl: str) -> None:
    tok = tokenizer(chat=True, impl=impl)
    enc = encoding(chat=True)
    index = StandInIndex({"a": "Lists are mutable.\n" * 40, "b": "Tuples are not.\n" * 40}, tok, 32)
    template = ctxengine.ChatTemplate(TEMPLATES[name], special_tokens=SPECIALS)
    for budget in (200, 350, 900, 5000):
        packed = ctxengine.pack(
            "are lists mutable", index, budget, format="hf", chat_template=template, tokenizer=tok
        )
        expected = render_jinja_template(
            [packed.messages],
            chat_template=TEMPLATES[name],
            add_generation_prompt=True,
            **SPECIALS,
        )[0][0]
        assert packed.text == expected
        assert packed.tokens == len(enc.encode(expected, allowed_special="all")) <= budget
        assert packed.sources


def test_chat_template_loads_from_model_folders(tmp_path: Path) -> None:
    config = {
        "chat_template": TEMPLATES["headers"],
        "bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>"},
        "eos_token": "<|eot_id|>",
    }
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    messages = [{"role": "user", "content": "hi"}]
    expected = render_jinja_template(
        [messages], chat_template=TEMPLATES["headers"], add_generation_prompt=True, **SPECIALS
    )[0][0]
    assert ctxengine.ChatTemplate.load(tmp_path).render(messages) == expected
    assert (
        ctxengine.ChatTemplate.load(tmp_path / "tokenizer_config.json").render(messages) == expected
    )
    # A chat_template.jinja file wins over the config's field, as in transformers.
    (tmp_path / "chat_template.jinja").write_text(TEMPLATES["chatml"])
    assert ctxengine.ChatTemplate.load(tmp_path).render(messages).startswith("<|im_start|>system")
    # Named templates.
    named = {
        "chat_template": [{"name": "default", "template": "D"}, {"name": "rag", "template": "R"}]
    }
    (tmp_path / "named.json").write_text(json.dumps(named))
    assert ctxengine.ChatTemplate.load(tmp_path / "named.json").render(messages) == "D"
    assert ctxengine.ChatTemplate.load(tmp_path / "named.json", name="rag").render(messages) == "R"
    with pytest.raises(ctxengine.NotFoundError, match="no chat template named 'tools'"):
        ctxengine.ChatTemplate.load(tmp_path / "named.json", name="tools")


def test_chat_template_errors(tmp_path: Path) -> None:
    with pytest.raises(ctxengine.NotFoundError):
        ctxengine.ChatTemplate.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ctxengine.FormatError, match="not valid JSON"):
        ctxengine.ChatTemplate.load(tmp_path / "bad.json")
    (tmp_path / "none.json").write_text("{}")
    with pytest.raises(ctxengine.FormatError, match="no chat_template"):
        ctxengine.ChatTemplate.load(tmp_path / "none.json")
    with pytest.raises(ctxengine.FormatError, match="does not parse"):
        ctxengine.ChatTemplate("{% for %}").render([])
    with pytest.raises(ctxengine.NotFoundError, match="no chat template in"):
        ctxengine.ChatTemplate.load(tmp_path)


def test_sandbox_blocks_escapes() -> None:
    evil = "{{ messages.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(ctxengine.FormatError):
        ctxengine.ChatTemplate(evil).render([{"role": "user", "content": "x"}])


@settings(max_examples=40)
@given(system=st.text(max_size=50), user=st.text(min_size=0, max_size=80))
def test_message_formats_count_as_documented(system: str, user: str) -> None:
    enc = encoding()
    tok = tokenizer()
    plain = enc.encode_ordinary
    msgs = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}
    ]
    r = Renderer("openai", tok).render(system, user)
    assert r.messages == msgs
    assert r.tokens == 3 + sum(3 + len(plain(m["role"])) + len(plain(m["content"])) for m in msgs)
    r = Renderer("anthropic", tok).render(system, user)
    assert r.system == (system or None) and r.messages == [msgs[-1]]
    assert r.tokens == len(plain(system)) + len(plain(user))
    r = Renderer("text", tok).render(system, user)
    assert r.text == (f"{system}\n\n{user}" if system else user)
    assert r.tokens == len(plain(r.text))
    chat = tokenizer(chat=True)
    r = Renderer("chatml", chat).render(system, user)
    assert r.tokens == len(encoding(chat=True).encode(r.text, allowed_special="all"))


def test_special_token_text_in_documents() -> None:
    # A document that contains special-token text is counted as plain text in the text format
    # and as the special token in ChatML (what a chat server's tokenizer does with it).
    doc = "Ignore <|im_end|> this and <|endoftext|> that."
    for fmt, chat in (("text", False), ("chatml", True)):
        tok = tokenizer(chat=chat)
        packed = ctxengine.pack("this", [doc], 500, scores=[1.0], format=fmt, tokenizer=tok)
        enc = encoding(chat=chat)
        expected = (
            len(enc.encode_ordinary(packed.text))
            if fmt == "text"
            else len(enc.encode(packed.text, allowed_special="all"))
        )
        assert packed.tokens == expected and packed.sources[0].text == doc


def test_namespace_rejects_underscore_names() -> None:
    t = ctxengine.ChatTemplate("{% set ns = namespace(a=1) %}{% set ns._x = 2 %}{{ ns.a }}")
    with pytest.raises(ctxengine.FormatError):
        t.render([])
    assert (
        ctxengine.ChatTemplate("{% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.b }}").render(
            []
        )
        == "2"
    )


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_pack_hf_equals_apply_chat_template_tokenize(name: str) -> None:
    """The end-to-end oracle: transformers' apply_chat_template(tokenize=True) on the packed
    messages, with a Hugging Face tokenizer that has the chat special tokens."""
    tok, oracle = hf_tokenizer()
    index = StandInIndex(
        {"a": "Lists are mutable <|im_end|> sequences.\n" * 40, "b": "Tuples are not.\n" * 40},
        tok,
        32,
    )
    template = ctxengine.ChatTemplate(TEMPLATES[name], special_tokens=SPECIALS)
    for budget in (250, 400, 900, 5000):
        packed = ctxengine.pack(
            "are lists mutable", index, budget, format="hf", chat_template=template, tokenizer=tok
        )
        ids = oracle.apply_chat_template(
            packed.messages,
            tokenize=True,
            add_generation_prompt=True,
            chat_template=TEMPLATES[name],
        )["input_ids"]
        assert packed.tokens == len(ids) <= budget
        assert packed.sources
