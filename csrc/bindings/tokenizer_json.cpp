// Bindings of the tokenizer.json pipeline (csrc/tokenizer/hf_*.hpp, wordpiece, normalizer):
// conversion only. python/ctxengine/tokenizer_json.py reads the JSON and drives these.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bindings/modules.hpp"
#include "common/error.hpp"
#include "tokenizer/hf_bpe.hpp"
#include "tokenizer/hf_json.hpp"
#include "tokenizer/hf_pipeline.hpp"
#include "tokenizer/hf_span_counter.hpp"
#include "tokenizer/hf_unicode.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/wordpiece.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using hf::Pipeline;
using U32 = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;
using U8 = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using I64 = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

template <typename T>
py::array_t<T> to_array(std::vector<T>&& v, std::size_t cols = 1) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  if (cols == 1) return py::array_t<T>(owned->size(), owned->data(), free_when_done);
  return py::array_t<T>({owned->size() / cols, cols}, owned->data(), free_when_done);
}

std::vector<uint32_t> u32_vector(const U32& a) {
  return std::vector<uint32_t>(a.data(), a.data() + a.size());
}

hf::TokenMask mask_of(const Pipeline& p, const U8& mask) {
  if (mask.size() != static_cast<py::ssize_t>(p.added_tokens().size()))
    throw py::value_error("special_mask needs one flag per added token");
  return hf::TokenMask(mask.data(), mask.data() + mask.size());
}

// The step kind a component's "type" names, or UnsupportedError naming it.
template <typename K>
K kind_of(const std::map<std::string, K>& kinds, const std::string& name, const char* what) {
  auto it = kinds.find(name);
  if (it == kinds.end())
    throw_error(ErrorKind::Unsupported, std::string("unsupported ") + what + " " + name);
  return it->second;
}

hf::NormalizerStep::Kind normalizer_kind(const std::string& name) {
  using K = hf::NormalizerStep::Kind;
  static const std::map<std::string, K> kinds = {{"BertNormalizer", K::Bert},
                                                 {"Lowercase", K::Lowercase},
                                                 {"NFD", K::Nfd},
                                                 {"NFKD", K::Nfkd},
                                                 {"NFC", K::Nfc},
                                                 {"NFKC", K::Nfkc},
                                                 {"StripAccents", K::StripAccents},
                                                 {"Strip", K::Strip},
                                                 {"Replace", K::Replace},
                                                 {"Prepend", K::Prepend}};
  return kind_of(kinds, name, "normalizer");
}

hf::DecoderStep::Kind decoder_kind(const std::string& name) {
  using K = hf::DecoderStep::Kind;
  static const std::map<std::string, K> kinds = {
      {"ByteLevel", K::ByteLevel},       {"WordPiece", K::WordPiece}, {"BPEDecoder", K::BpeSuffix},
      {"ByteFallback", K::ByteFallback}, {"Fuse", K::Fuse},           {"Strip", K::Strip},
      {"Replace", K::Replace},           {"Metaspace", K::Metaspace}};
  return kind_of(kinds, name, "decoder");
}

hf::PreTokenizerStep::Kind pre_tokenizer_kind(const std::string& name) {
  using K = hf::PreTokenizerStep::Kind;
  static const std::map<std::string, K> kinds = {{"BertPreTokenizer", K::Bert},
                                                 {"WhitespaceSplit", K::WhitespaceSplit},
                                                 {"ByteLevel", K::ByteLevel},
                                                 {"Scanner", K::Scanner},
                                                 {"Metaspace", K::Metaspace},
                                                 {"External", K::External},
                                                 {"Digits", K::CharSplit},
                                                 {"Punctuation", K::CharSplit},
                                                 {"Regex", K::Regex}};
  return kind_of(kinds, name, "pre-tokenizer");
}

std::vector<hf::Piece> pieces_of(const I64& a) {
  if (a.ndim() != 2 || a.shape(1) != 4) throw py::value_error("pieces must be an (n, 4) array");
  std::vector<hf::Piece> out(static_cast<std::size_t>(a.shape(0)));
  const int64_t* d = a.data();
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = {static_cast<uint32_t>(d[4 * i]), static_cast<uint32_t>(d[4 * i + 1]), d[4 * i + 2],
              (d[4 * i + 3] & 1) != 0, (d[4 * i + 3] & 2) != 0};
  }
  return out;
}

py::array_t<int64_t> pieces_array(const std::vector<hf::Piece>& pieces) {
  std::vector<int64_t> out;
  out.reserve(pieces.size() * 4);
  for (const hf::Piece& p : pieces) {
    out.insert(out.end(), {p.begin, p.end, p.id, (p.space ? 1 : 0) | (p.meta ? 2 : 0)});
  }
  return to_array(std::move(out), 4);
}

py::object encode_result(std::vector<uint32_t>&& ids, std::vector<uint32_t>&& offsets,
                         bool with_offsets) {
  if (!with_offsets) return to_array(std::move(ids));
  std::vector<int64_t> off(offsets.begin(), offsets.end());
  return py::make_tuple(to_array(std::move(ids)), to_array(std::move(off), 2));
}

}  // namespace

void bind_tokenizer_json(py::module_& root) {
  py::module_ m = root.def_submodule("tokenizer_json", "The tokenizer.json pipeline");
  m.def("reference_version", &hf::reference_version,
        "The HF tokenizers version whose character tables the pipeline reproduces.");
  m.def(
      "character_flags",
      [](const U32& cps) {
        py::array_t<uint8_t> out(cps.size());
        hf::flags_of(cps.data(), static_cast<std::size_t>(cps.size()), out.mutable_data());
        return out;
      },
      py::arg("code_points"), "HF character flags (1 drop, 2 Bert Mn, 4 Bert punct, 8 mark).");
  m.def(
      "combining_classes",
      [](const U32& cps) {
        py::array_t<uint8_t> out(cps.size());
        hf::combining_classes(cps.data(), static_cast<std::size_t>(cps.size()), out.mutable_data());
        return out;
      },
      py::arg("code_points"), "Canonical combining classes as HF tokenizers knows them.");

  struct ParsedBpe {
    hf::BpeJson json;
    std::vector<uint32_t> left, right, merged;
    std::unordered_map<std::string, int64_t> index;  // built on first id_of()
  };
  py::class_<ParsedBpe, std::shared_ptr<ParsedBpe>>(
      m, "ParsedBpe", "A BPE model's vocab and merges parsed in C++ (hf_json.hpp).")
      .def_property_readonly("rest", [](const ParsedBpe& p) { return py::str(p.json.rest); })
      .def_property_readonly("size", [](const ParsedBpe& p) { return p.json.tokens.size(); })
      .def_property_readonly("min_id",
                             [](const ParsedBpe& p) {
                               int64_t v = 0;
                               for (std::size_t i = 0; i < p.json.ids.size(); ++i)
                                 v = i == 0 ? p.json.ids[i] : std::min(v, p.json.ids[i]);
                               return v;
                             })
      .def_property_readonly("max_id",
                             [](const ParsedBpe& p) {
                               int64_t v = 0;
                               for (int64_t id : p.json.ids) v = std::max(v, id);
                               return v;
                             })
      .def(
          "id_of",
          [](ParsedBpe& p, const std::string& token) -> py::object {
            if (p.index.empty()) {
              for (std::size_t i = 0; i < p.json.tokens.size(); ++i)
                p.index[p.json.tokens[i]] = p.json.ids[i];
            }
            auto it = p.index.find(token);
            if (it == p.index.end()) return py::none();
            return py::int_(it->second);
          },
          py::arg("token"))
      .def("tokens", [](const ParsedBpe& p) { return p.json.tokens; })
      .def("ids",
           [](const ParsedBpe& p) {
             return py::array_t<int64_t>(static_cast<py::ssize_t>(p.json.ids.size()),
                                         p.json.ids.data());
           })
      .def("merge_ids", [](const ParsedBpe& p) {
        return py::make_tuple(
            py::array_t<uint32_t>(static_cast<py::ssize_t>(p.left.size()), p.left.data()),
            py::array_t<uint32_t>(static_cast<py::ssize_t>(p.right.size()), p.right.data()));
      });
  m.def(
      "parse_bpe_json",
      [](const py::bytes& raw, const std::string& source) -> py::object {
        const std::string_view view = raw;
        auto parsed = std::make_shared<ParsedBpe>();
        {
          py::gil_scoped_release release;
          parsed->json = hf::extract_bpe_json(view, source);
        }
        if (!parsed->json.found) return py::none();
        return py::cast(parsed);
      },
      py::arg("raw"), py::arg("source"),
      "A tokenizer.json's BPE vocab and merges parsed in C++, or None (no such model).");

  m.def("check_text_size", &hf::check_text_size, py::arg("bytes"),
        "Raises BudgetError when a text of this many bytes is 4 GiB or more (32-bit offsets).");

  py::class_<hf::Prepared>(m, "Prepared", "Normalized text and segments of one input.")
      .def_property_readonly("text", [](const hf::Prepared& p) { return py::bytes(p.text); })
      .def_property_readonly("segments", [](const hf::Prepared& p) {
        std::vector<int64_t> out;
        for (const hf::Segment& s : p.segments) out.insert(out.end(), {s.begin, s.end, s.id});
        return to_array(std::move(out), 3);
      });

  py::class_<Pipeline, std::shared_ptr<Pipeline>>(
      m, "Pipeline", "A tokenizer.json pipeline (built by tokenizer_json.py).")
      .def(py::init<>())
      .def(
          "add_normalizer",
          [](Pipeline& p, const std::string& kind, bool clean_text, bool handle_chinese_chars,
             bool strip_accents, bool lowercase, bool left, bool right, const std::string& pattern,
             const std::string& content) {
            hf::NormalizerStep s;
            s.kind = normalizer_kind(kind);
            s.clean_text = clean_text;
            s.handle_chinese_chars = handle_chinese_chars;
            s.strip_accents = strip_accents;
            s.lowercase = lowercase;
            s.left = left;
            s.right = right;
            s.pattern = hf::code_points_of(pattern);
            s.content = hf::code_points_of(content);
            p.normalizer.add(std::move(s));
          },
          py::arg("kind"), py::kw_only(), py::arg("clean_text") = false,
          py::arg("handle_chinese_chars") = false, py::arg("strip_accents") = false,
          py::arg("lowercase") = false, py::arg("left") = false, py::arg("right") = false,
          py::arg("pattern") = "", py::arg("content") = "")
      .def(
          "add_pre_tokenizer",
          [](Pipeline& p, const std::string& kind, bool add_prefix_space,
             const std::string& scanner, const std::string& prepend_scheme, bool split,
             const std::string& replacement, const std::string& behavior,
             const std::string& pattern, bool invert, const std::string& flavor, bool byte_level) {
            using Behavior = hf::PreTokenizerStep::Behavior;
            static const std::map<std::string, Behavior> behaviors = {
                {"Removed", Behavior::Removed},
                {"Isolated", Behavior::Isolated},
                {"MergedWithPrevious", Behavior::MergedWithPrevious},
                {"MergedWithNext", Behavior::MergedWithNext},
                {"Contiguous", Behavior::Contiguous}};
            using Prepend = hf::PreTokenizerStep::Prepend;
            hf::PreTokenizerStep step;
            step.kind = pre_tokenizer_kind(kind);
            step.add_prefix_space = add_prefix_space;
            step.scanner = pretokenizer_from_name(scanner);
            CTX_REQUIRE(prepend_scheme == "always" || prepend_scheme == "first" ||
                            prepend_scheme == "never",
                        "prepend_scheme must be always, first or never");
            step.prepend = prepend_scheme == "always"  ? Prepend::Always
                           : prepend_scheme == "first" ? Prepend::First
                                                       : Prepend::Never;
            step.split = split;
            if (step.kind == hf::PreTokenizerStep::Kind::Metaspace) p.metaspace = replacement;
            auto b = behaviors.find(behavior);
            CTX_REQUIRE(b != behaviors.end(), "unknown split behavior '" + behavior + "'");
            step.behavior = b->second;
            if (kind == "Digits") step.char_flag = hf::kNumeric;
            if (kind == "Punctuation") step.char_flag = hf::kBertPunct;
            if (step.kind == hf::PreTokenizerStep::Kind::Regex) {
              CTX_REQUIRE(flavor == "oniguruma" || flavor == "tiktoken",
                          "flavor must be 'oniguruma' or 'tiktoken'");
              py::gil_scoped_release release;
              step.regex = Regex::compile(pattern, flavor == "oniguruma" ? Regex::Flavor::Oniguruma
                                                                         : Regex::Flavor::Tiktoken);
              step.invert = invert;
            }
            CTX_REQUIRE(step.kind != hf::PreTokenizerStep::Kind::Scanner ||
                            step.scanner != Pretokenizer::Custom,
                        "unknown scanner '" + scanner + "'");
            CTX_REQUIRE(!byte_level || step.kind == hf::PreTokenizerStep::Kind::CharSplit ||
                            step.kind == hf::PreTokenizerStep::Kind::Regex,
                        "only Digits, Punctuation and Split steps run on byte-level text");
            step.byte_level = byte_level;
            p.pre_tokenizer.push_back(step);
          },
          py::arg("kind"), py::kw_only(), py::arg("add_prefix_space") = false,
          py::arg("scanner") = "custom", py::arg("prepend_scheme") = "always",
          py::arg("split") = true, py::arg("replacement") = "\xE2\x96\x81",
          py::arg("behavior") = "Isolated", py::arg("pattern") = "", py::arg("invert") = false,
          py::arg("flavor") = "oniguruma", py::arg("byte_level") = false)
      .def(
          "set_wordpiece",
          [](Pipeline& p, const std::vector<std::string>& tokens, const U32& ids, uint32_t unk_id,
             const std::string& prefix, std::size_t max_chars) {
            p.model =
                std::make_unique<hf::WordPiece>(tokens, u32_vector(ids), unk_id, prefix, max_chars);
          },
          py::arg("tokens"), py::arg("ids"), py::kw_only(), py::arg("unk_id"),
          py::arg("continuing_subword_prefix"), py::arg("max_input_chars_per_word"))
      .def(
          "set_bpe",
          [](Pipeline& p, const std::vector<std::string>& tokens, const U32& ids, const U32& left,
             const U32& right, const U32& merged, bool byte_level, bool ignore_merges,
             bool byte_fallback, bool fuse_unk, int64_t unk_id, const py::bytes& prefix,
             const py::bytes& suffix) {
            hf::BpeOptions o;
            o.byte_level = byte_level;
            o.ignore_merges = ignore_merges;
            o.byte_fallback = byte_fallback;
            o.fuse_unk = fuse_unk;
            o.unk_id = unk_id;
            o.continuing_subword_prefix = prefix;
            o.end_of_word_suffix = suffix;
            std::vector<uint32_t> id = u32_vector(ids), l = u32_vector(left), r = u32_vector(right),
                                  mg = u32_vector(merged);
            py::gil_scoped_release release;
            p.model = std::make_unique<hf::HfBpe>(tokens, id, l, r, mg, std::move(o));
          },
          py::arg("tokens"), py::arg("ids"), py::arg("left"), py::arg("right"), py::arg("merged"),
          py::kw_only(), py::arg("byte_level"), py::arg("ignore_merges"), py::arg("byte_fallback"),
          py::arg("fuse_unk"), py::arg("unk_id"), py::arg("continuing_subword_prefix"),
          py::arg("end_of_word_suffix"))
      .def(
          "set_bpe_parsed",
          [](Pipeline& p, std::shared_ptr<ParsedBpe> parsed, bool byte_level, bool ignore_merges,
             bool byte_fallback, bool fuse_unk, int64_t unk_id, const std::string& prefix,
             const py::bytes& raw_prefix, const py::bytes& suffix, const std::string& source) {
            hf::BpeOptions o;
            o.byte_level = byte_level;
            o.ignore_merges = ignore_merges;
            o.byte_fallback = byte_fallback;
            o.fuse_unk = fuse_unk;
            o.unk_id = unk_id;
            o.continuing_subword_prefix = raw_prefix;
            o.end_of_word_suffix = suffix;
            py::gil_scoped_release release;
            ParsedBpe& b = *parsed;
            b.json.resolve_merges(prefix, source, b.left, b.right, b.merged);
            std::vector<uint32_t> ids(b.json.ids.begin(), b.json.ids.end());
            p.model = std::make_unique<hf::HfBpe>(b.json.tokens, ids, b.left, b.right, b.merged,
                                                  std::move(o));
          },
          py::arg("parsed"), py::kw_only(), py::arg("byte_level"), py::arg("ignore_merges"),
          py::arg("byte_fallback"), py::arg("fuse_unk"), py::arg("unk_id"), py::arg("prefix"),
          py::arg("continuing_subword_prefix"), py::arg("end_of_word_suffix"), py::arg("source"))
      .def(
          "add_token",
          [](Pipeline& p, const std::string& content, uint32_t id, bool special, bool lstrip,
             bool rstrip,
             bool normalized) { p.add_token({content, id, special, lstrip, rstrip, normalized}); },
          py::arg("content"), py::arg("id"), py::kw_only(), py::arg("special"), py::arg("lstrip"),
          py::arg("rstrip"), py::arg("normalized"))
      .def(
          "set_post_processor",
          [](Pipeline& p, const U32& prefix, const U32& suffix) {
            p.prefix_ids = u32_vector(prefix);
            p.suffix_ids = u32_vector(suffix);
          },
          py::arg("prefix"), py::arg("suffix"))
      .def(
          "add_decoder",
          [](Pipeline& p, const std::string& kind, const std::string& text,
             const std::string& content, bool cleanup, std::size_t start, std::size_t stop) {
            p.decoder.add({decoder_kind(kind), text, content, cleanup, start, stop});
          },
          py::arg("kind"), py::kw_only(), py::arg("text") = "", py::arg("content") = "",
          py::arg("cleanup") = false, py::arg("start") = 0, py::arg("stop") = 0)
      .def("finalize", &Pipeline::finalize, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("has_external_steps", &Pipeline::has_external_steps)
      .def_property_readonly("num_added_tokens",
                             [](const Pipeline& p) { return p.added_tokens().size(); })
      .def(
          "normalize",
          [](const Pipeline& p, const std::string& text) { return p.normalizer.apply(text); },
          py::arg("text"), "The normalizer alone, on valid UTF-8 text.")
      .def(
          "encode",
          [](const Pipeline& p, const py::bytes& text, const U8& mask, bool add_special,
             bool offsets) {
            std::string_view view = text;
            const hf::TokenMask m = mask_of(p, mask);
            std::vector<uint32_t> ids, off;
            {
              py::gil_scoped_release release;
              p.encode(view, m, add_special, ids, offsets ? &off : nullptr);
            }
            return encode_result(std::move(ids), std::move(off), offsets);
          },
          py::arg("text"), py::arg("special_mask"), py::kw_only(), py::arg("add_special"),
          py::arg("offsets") = false)
      .def(
          "count",
          [](const Pipeline& p, const py::bytes& text, const U8& mask, bool add_special) {
            std::string_view view = text;
            const hf::TokenMask m = mask_of(p, mask);
            py::gil_scoped_release release;
            return p.count(view, m, add_special);
          },
          py::arg("text"), py::arg("special_mask"), py::kw_only(), py::arg("add_special"))
      .def(
          "count_many",
          [](const Pipeline& p, const std::vector<py::bytes>& texts, const U8& mask,
             bool add_special, std::size_t threads) {
            std::vector<std::string_view> views(texts.begin(), texts.end());
            const hf::TokenMask m = mask_of(p, mask);
            py::array_t<int64_t> out(views.size());
            int64_t* o = out.mutable_data();
            py::gil_scoped_release release;
            p.count_many(views, m, add_special, threads, o);
            return out;
          },
          py::arg("texts"), py::arg("special_mask"), py::kw_only(), py::arg("add_special"),
          py::arg("threads") = 0)
      .def(
          "prepare",
          [](const Pipeline& p, const py::bytes& text, const U8& mask, bool alignment) {
            std::string_view view = text;
            const hf::TokenMask m = mask_of(p, mask);
            py::gil_scoped_release release;
            return p.prepare(view, m, alignment);
          },
          py::arg("text"), py::arg("special_mask"), py::kw_only(), py::arg("alignment"))
      .def(
          "run_step",
          [](const Pipeline& p, std::size_t step, const hf::Prepared& prepared, const I64& pieces) {
            std::vector<hf::Piece> in = pieces_of(pieces), out;
            {
              py::gil_scoped_release release;
              out = p.run_step(step, prepared.text, in);
            }
            return pieces_array(out);
          },
          py::arg("step"), py::arg("prepared"), py::arg("pieces"),
          "Runs native pre-tokenizer step `step` on (begin, end, id, space) pieces.")
      .def(
          "encode_pieces",
          [](const Pipeline& p, const hf::Prepared& prepared, const I64& pieces, bool add_special,
             bool offsets) {
            std::vector<hf::Piece> in = pieces_of(pieces);
            std::vector<uint32_t> ids, off;
            {
              py::gil_scoped_release release;
              p.encode_pieces(prepared, in, add_special, ids, offsets ? &off : nullptr);
            }
            return encode_result(std::move(ids), std::move(off), offsets);
          },
          py::arg("prepared"), py::arg("pieces"), py::kw_only(), py::arg("add_special"),
          py::arg("offsets") = false)
      .def(
          "decode",
          [](const Pipeline& p, const U32& ids, bool skip_special) {
            std::string out;
            {
              py::gil_scoped_release release;
              out = p.decode(ids.data(), static_cast<std::size_t>(ids.size()), skip_special);
            }
            return py::str(out);
          },
          py::arg("ids"), py::kw_only(), py::arg("skip_special") = false)
      .def(
          "token_string",
          [](const Pipeline& p, uint32_t id) -> py::object {
            std::string s;
            if (!p.token_string(id, s)) return py::none();
            return py::str(s);
          },
          py::arg("id"))
      .def(
          "find_token",
          [](const Pipeline& p, const py::bytes& text, const U8& mask) {
            std::string_view view = text;
            const hf::TokenMask m = mask_of(p, mask);
            py::gil_scoped_release release;
            return p.find_token(view, m);
          },
          py::arg("text"), py::arg("mask"));

  py::class_<hf::SpanCounting, std::shared_ptr<hf::SpanCounting>>(
      m, "SpanCounting",
      "Span counting of a pipeline: its BpeTokenizer twin where exact, else C++ re-encoding.")
      // The twin crosses as a plain object: a stub naming another native module's class does
      // not type-check (mypy), and the Python layer only passes it through.
      .def(py::init([](std::shared_ptr<Pipeline> pipeline, const py::object& twin) {
             std::shared_ptr<BpeTokenizer> t;
             if (!twin.is_none()) t = twin.cast<std::shared_ptr<BpeTokenizer>>();
             return std::make_shared<hf::SpanCounting>(std::move(pipeline), std::move(t));
           }),
           py::arg("pipeline"), py::arg("twin") = py::none(),
           "`twin`: a BpeTokenizer that counts like the pipeline when twin_applies(), or None.")
      .def_property_readonly(
          "twin",
          [](const hf::SpanCounting& c) -> py::object {
            if (c.twin() == nullptr) return py::none();
            return py::cast(std::const_pointer_cast<BpeTokenizer>(c.twin()));
          },
          "The BpeTokenizer twin, or None.")
      .def(
          "twin_applies",
          [](const hf::SpanCounting& c, const py::bytes& text) {
            const std::string_view view = text;
            py::gil_scoped_release release;
            return c.twin_applies(view);
          },
          py::arg("text"), "Whether the twin counts every span of this UTF-8 text exactly.");
}

}  // namespace ctxengine::bindings
