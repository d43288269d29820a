"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<harness>/ (committed; rerun
only to change them). Seeds are small real inputs that reach each harness's interesting paths:
prose, code, markdown, CJK, emoji, whitespace runs, special-token text and invalid UTF-8;
rank files and tokenizer.json files of each kind; damaged index folders; chat templates in the
styles models ship. Run from the repository root with the venv that has ``tokenizers``:

    PYTHONPATH=python:tests python fuzz/make_seeds.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

TEXTS = {
    "prose": "The quick brown fox jumps over the lazy dog. It's 3.14 miles, isn't it? "
    "Dr. Smith said: \"don't\" -- and we'LL see.\n\nA new paragraph follows here.",
    "code": 'def count(text: str) -> int:\n    """Count tokens."""\n    if not text:\n'
    "        return 0\n    return len(text.split())\n\n\nclass A:\n    pass\n",
    "braces": 'int main(void) {\n  for (int i = 0; i < 10; ++i) {\n    printf("%d\\n", i);\n'
    "  }\n  return 0;\n}\n\nstatic int f(int x) { return x * 2; }\n",
    "markdown": "# Title\n\nSome *text* here.\n\n## Section\n\n- item one\n- item two\n\n"
    "```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n### Deep\n\nEnd.\n",
    "cjk": "東京は日本の首都です。大阪は第二の都市です！「引用」と、句読点。한국어 문장입니다.",
    "emoji": "emoji 👩\u200d💻 and 🇯🇵🇺🇸, combining e\u0301 a\u0308, NBSP\u00a0end, ﬁ ŉ ǅ",
    "spaces": "  \t\n\n\n   word   \r\n\r\n\u3000\u2003x\u2028y\u0085z   \n\n",
    "numbers": "1234567890 12,345.678 0x1F 1e-9 ١٢٣ ⅷ 2024-06-01T12:00:00Z",
    "special": "<|endoftext|> text <|fim_prefix|>a<|fim_middle|>b<|fim_suffix|><|endofprompt|>",
    "mixed": "Ελληνικά кириллица עברית العربية हिन्दी ไทย — “quotes” ‘single’ …",
}
INVALID = b"bad \xff\xfe utf-8 \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 end \xe2\x82"


def write(harness: str, name: str, data: bytes) -> None:
    folder = CORPUS / harness
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def rank_line(token: bytes, rank: int) -> bytes:
    return base64.b64encode(token) + b" " + str(rank).encode() + b"\n"


def encode_seeds() -> None:
    for i, (name, text) in enumerate(TEXTS.items()):
        write("encode", name, bytes([i * 8 + (i & 1)]) + text.encode())
    write("encode", "invalid", b"\x05" + INVALID)


def tiktoken_seeds() -> None:
    from tiktoken_oracle import rank_file

    text = TEXTS["prose"].encode()[:120]
    head = b"\n".join(rank_file("cl100k_base").splitlines()[:300]) + b"\n"
    write("tiktoken_load", "cl100k_head", bytes([0, len(text)]) + text + head)
    merges = [b"th", b"he", b"the", b" t", b" the", b"in", b"ing", b"  ", b"\n\n", b"\xe6\x9d"]
    lines = b"".join(rank_line(m, 256 + k) for k, m in enumerate(merges))
    for p in range(5):
        write("tiktoken_load", f"merges_{p}", bytes([1 | p << 1, len(text)]) + text + lines)
    crlf = lines.replace(b"\n", b"\r\n") + b"\n\n"
    write("tiktoken_load", "crlf", bytes([1, len(text)]) + text + crlf)
    write("tiktoken_load", "bad_rank", bytes([1, 4]) + b"abcd" + b"dGg= 99999999999\nYQ== x\n")


def chunk_seeds() -> None:
    modes = {"prose": 0, "markdown": 3, "code": 4 + 5, "braces": 4 + 10, "cjk": 2, "spaces": 0}
    for name, mode in modes.items():
        for max_tokens, overlap, flags in ((8, 0x80, 0), (24, 5, 0x0E), (3, 1, 0x31)):
            data = bytes([mode, max_tokens, overlap, flags]) + TEXTS[name].encode()
            write("chunk", f"{name}_{max_tokens}", data)
    write("chunk", "tokens_16", bytes([1, 16, 4, 0x04]) + TEXTS["prose"].encode())
    write("chunk", "invalid", bytes([0, 5, 0, 0]) + INVALID)


def text_seeds() -> None:
    for i, (name, text) in enumerate(TEXTS.items()):
        write("text", name, bytes([(i * 29) & 0xFE]) + text.encode())
    surrogates = "lone \ud800 high, \udfff low, pair \ud83d\ude00 and \udc00\ud800 reversed"
    write("text", "surrogates", b"\x01" + surrogates.encode("utf-16-le", "surrogatepass"))
    write("text", "invalid", b"\x84" + INVALID)


def tokenizer_json_seeds() -> None:
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )

    from hf_files import CL100K_PATTERN, minilm_path

    corpus = [t for t in TEXTS.values()] * 3

    def train(tok: Tokenizer, trainer: object) -> str:
        tok.train_from_iterator(corpus, trainer=trainer)
        return tok.to_str()

    specials = ["<|endoftext|>", "<pad>"]
    # Byte-level BPE, GPT-2 style.
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    bl = trainers.BpeTrainer(
        vocab_size=320,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=specials,
    )
    write("tokenizer_json", "bytelevel_bpe", train(t, bl).encode())
    # Byte-level BPE behind cl100k's Split pattern, with a post-processor.
    t = Tokenizer(models.BPE(ignore_merges=True))
    t.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(pattern=_regex(CL100K_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    t.decoder = decoders.ByteLevel()
    t.post_processor = processors.TemplateProcessing(
        single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 0)]
    )
    write("tokenizer_json", "split_bpe", train(t, bl).encode())
    # SentencePiece-style BPE with Metaspace and NFKC.
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=False))
    t.normalizer = normalizers.NFKC()
    t.pre_tokenizer = pre_tokenizers.Metaspace()
    t.decoder = decoders.Metaspace()
    sp = trainers.BpeTrainer(vocab_size=200, special_tokens=["<unk>", "<s>", "</s>"])
    write("tokenizer_json", "metaspace_bpe", train(t, sp).encode())
    # WordPiece with BERT's normalizer and pre-tokenizer, digits and punctuation split.
    t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    t.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.Punctuation(),
        ]
    )
    t.decoder = decoders.WordPiece()
    wp = trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[UNK]", "[CLS]", "[SEP]"])
    write("tokenizer_json", "wordpiece", train(t, wp).encode())
    # The real all-MiniLM-L6-v2 file with its vocabulary cut to what fits a seed.
    path = minilm_path()
    if path is not None:
        spec = json.loads(path.read_text())
        keep = sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])
        vocab = dict(keep[:120] + [kv for kv in keep if kv[0] in ("the", "##s", "hello", ",")])
        spec["model"]["vocab"] = vocab
        spec["added_tokens"] = [a for a in spec["added_tokens"] if a["id"] in vocab.values()]
        write("tokenizer_json", "minilm_cut", json.dumps(spec).encode())


def _regex(pattern: str) -> object:
    from tokenizers import Regex

    return Regex(pattern)


def index_load_seeds() -> None:
    # option (verify, hnsw, damage kind), file, position (2 bytes), payload
    for kind in range(6):
        for opt_extra, which in ((0, 0), (1, 1), (2, 3), (3, 5)):
            opt = opt_extra | kind << 2
            write(
                "index_load", f"k{kind}_{opt_extra}_{which}", bytes([opt, which, 7, 0]) + b"\x01x"
            )


def chat_template_seeds() -> None:
    chatml = (
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
        "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    llama3 = (
        "{% set loop_messages = messages %}{% for message in loop_messages %}"
        "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
        " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
        "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
        "{% endif %}"
    )
    strict = (
        "{{ bos_token }}{% for message in messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}"
    )
    tools = (
        "{%- set ns = namespace(system='') -%}{%- for m in messages -%}"
        "{%- if m.role == 'system' -%}{%- set ns.system = m.content -%}{%- endif -%}"
        "{%- endfor -%}{{ ns.system | tojson }}{% for m in messages|selectattr('role', 'ne', "
        "'system') %}<{{ m.role }}>{{ m.content }}{% endfor %}{{ strftime_now('%Y') | length }}"
    )
    for name, template in (
        ("chatml", chatml),
        ("llama3", llama3),
        ("strict", strict),
        ("tools", tools),
    ):
        for opt in (0x84, 0x41, 0xC4):
            data = bytes([opt]) + template.encode() + b"\0" + TEXTS["prose"][:60].encode()
            write("chat_template", f"{name}_{opt:02x}", data + b"\0" + TEXTS["cjk"].encode())


def main() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    encode_seeds()
    tiktoken_seeds()
    chunk_seeds()
    text_seeds()
    tokenizer_json_seeds()
    index_load_seeds()
    chat_template_seeds()
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for p in sorted(CORPUS.rglob("*")):
        if p.is_file():
            digest.update(p.read_bytes())
    print(f"wrote {sum(1 for p in CORPUS.rglob('*') if p.is_file())} seeds, {total} bytes")


if __name__ == "__main__":
    main()
