// Bindings of the tokenizer core (csrc/tokenizer): conversion only. Text arrives as Python str
// and is read through CPython's cached UTF-8 form (no copy for ASCII); a str that cannot be
// UTF-8 (lone surrogates) raises UnicodeEncodeError, which the Python layer repairs as tiktoken
// does. Results come back as NumPy arrays that own the core's vectors (no copy).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings/modules.hpp"
#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/char_spans.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/tiktoken_file.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using Tokenizer = std::shared_ptr<const BpeTokenizer>;

// The UTF-8 bytes of a str, borrowed from the str object (which the caller keeps alive).
std::string_view utf8_of(const py::handle& obj) {
  if (!PyUnicode_Check(obj.ptr())) throw py::type_error("expected a str");
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(obj.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();  // UnicodeEncodeError
  return std::string_view(data, static_cast<std::size_t>(size));
}

template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule free(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(owned->size()), owned->data(), free);
}

// `allowed` special tokens by text -> one flag per special token (empty: none allowed).
std::vector<char> special_mask(const BpeTokenizer& t, const std::vector<std::string>& allowed) {
  return allowed.empty() ? std::vector<char>() : t.special_tokens().mask(allowed);
}

const std::vector<char>* mask_or_null(const std::vector<char>& m) {
  return m.empty() ? nullptr : &m;
}

std::vector<SpecialToken> to_specials(const std::vector<std::pair<std::string, uint32_t>>& list) {
  std::vector<SpecialToken> out;
  out.reserve(list.size());
  for (const auto& [text, id] : list) out.push_back(SpecialToken{text, id});
  return out;
}

}  // namespace

void bind_tokenizer(py::module_& root) {
  py::module_ m = root.def_submodule("tokenizer", "Byte-level BPE tokenizers of the core");

  m.def(
      "identify_pattern",
      [](const std::string& pattern) { return pretokenizer_name(identify_pattern(pattern)); },
      py::arg("pattern"),
      "Name of the built-in scanner for this exact regex pattern string, or 'custom'.");
  m.def(
      "pattern_strings",
      [](const std::string& name) {
        std::vector<std::string> out;
        for (std::string_view s : pattern_strings(pretokenizer_from_name(name)))
          out.emplace_back(s);
        return out;
      },
      py::arg("name"), "Known spellings of a scanner's pattern (the first is canonical).");
  m.def(
      "split_pieces",
      [](const std::string& name, const py::str& text) {
        const Pretokenizer p = pretokenizer_from_name(name);
        CTX_REQUIRE(p != Pretokenizer::Custom, "unknown scanner '" + name + "'");
        const std::string_view view = utf8_of(text);
        std::vector<std::size_t> ends;
        std::vector<int64_t> bytes;
        {
          py::gil_scoped_release release;
          split_pieces(p, view, ends);
          bytes.assign(ends.begin(), ends.end());
          OffsetMap(view).chars_of_bytes(bytes.data(), bytes.size(), bytes.data());
        }
        return to_numpy(std::move(bytes));
      },
      py::arg("name"), py::arg("text"), "End offsets (str indices) of the scanner's pieces.");

  py::class_<Regex, std::shared_ptr<Regex>>(
      m, "Regex", "A compiled pre-tokenizer regex (csrc/tokenizer/regex.hpp).")
      .def(py::init([](const std::string& pattern, const std::string& flavor) {
             CTX_REQUIRE(flavor == "tiktoken" || flavor == "oniguruma",
                         "flavor must be 'tiktoken' or 'oniguruma'");
             auto re = Regex::compile(pattern, flavor == "tiktoken" ? Regex::Flavor::Tiktoken
                                                                    : Regex::Flavor::Oniguruma);
             return std::const_pointer_cast<Regex>(re);
           }),
           py::arg("pattern"), py::arg("flavor"))
      .def_property_readonly("pattern", &Regex::pattern)
      .def_property_readonly("num_instructions", &Regex::num_instructions)
      .def_property_readonly("num_classes", &Regex::num_classes)
      .def(
          "find_all",
          [](const Regex& re, const py::str& text) {
            const std::string_view view = utf8_of(text);
            std::vector<int64_t> spans;
            {
              py::gil_scoped_release release;
              const auto* s = reinterpret_cast<const uint8_t*>(view.data());
              re.for_each_match(s, 0, view.size(), [&](std::size_t b, std::size_t e) {
                spans.push_back(static_cast<int64_t>(b));
                spans.push_back(static_cast<int64_t>(e));
              });
              OffsetMap(view).chars_of_bytes(spans.data(), spans.size(), spans.data());
            }
            auto* owned = new std::vector<int64_t>(std::move(spans));
            py::capsule free(owned, [](void* p) { delete static_cast<std::vector<int64_t>*>(p); });
            return py::array_t<int64_t>(
                {static_cast<py::ssize_t>(owned->size() / 2), static_cast<py::ssize_t>(2)},
                owned->data(), free);
          },
          py::arg("text"), "(start, end) str offsets of the successive matches (find_iter).");

  py::class_<CharSpanCounter, std::shared_ptr<CharSpanCounter>>(m, "SpanCounter")
      .def_property_readonly("total", &CharSpanCounter::total)
      .def("__len__", &CharSpanCounter::size_chars)
      .def("count", &CharSpanCounter::count, py::arg("start"), py::arg("end"),
           py::call_guard<py::gil_scoped_release>())
      .def("fit", &CharSpanCounter::fit, py::arg("start"), py::arg("end"), py::arg("limit"),
           py::call_guard<py::gil_scoped_release>())
      .def("fit_start", &CharSpanCounter::fit_start, py::arg("start"), py::arg("end"),
           py::arg("limit"), py::call_guard<py::gil_scoped_release>())
      .def(
          "count_many",
          [](const CharSpanCounter& c, const py::array_t<int64_t, py::array::c_style>& starts,
             const py::array_t<int64_t, py::array::c_style>& ends) {
            CTX_REQUIRE(starts.ndim() == 1 && ends.ndim() == 1 && starts.size() == ends.size(),
                        "starts and ends must be 1-D arrays of the same length");
            std::vector<int64_t> out(static_cast<std::size_t>(starts.size()));
            {
              py::gil_scoped_release release;
              c.count_many(starts.data(), ends.data(), out.size(), out.data());
            }
            return to_numpy(std::move(out));
          },
          py::arg("starts").noconvert(), py::arg("ends").noconvert(),
          "Counts of many spans (int64 arrays of str offsets).");

  py::class_<BpeTokenizer, std::shared_ptr<BpeTokenizer>>(m, "BpeTokenizer")
      .def_static(
          "from_tiktoken",
          [](const std::string& name, const py::bytes& ranks, const std::string& source,
             const std::string& pattern,
             const std::vector<std::pair<std::string, uint32_t>>& special_tokens) {
            const std::string_view content = ranks;
            auto specials = to_specials(special_tokens);
            py::gil_scoped_release release;
            return load_tiktoken(name, content, source, pattern, std::move(specials));
          },
          py::arg("name"), py::arg("ranks"), py::arg("source"), py::arg("pattern"),
          py::arg("special_tokens"),
          "A tokenizer from a tiktoken rank file's content, its pattern and special tokens.")
      .def_static(
          "from_vocab",
          [](const std::string& name, const std::vector<std::pair<py::bytes, uint32_t>>& tokens,
             const std::optional<std::vector<std::pair<uint32_t, uint32_t>>>& merges,
             bool whole_piece_lookup, const std::string& pattern,
             const std::vector<std::pair<std::string, uint32_t>>& special_tokens,
             const std::string& source) {
            std::vector<std::pair<std::string, uint32_t>> owned;
            owned.reserve(tokens.size());
            for (const auto& [bytes, id] : tokens) owned.emplace_back(std::string(bytes), id);
            auto specials = to_specials(special_tokens);
            py::gil_scoped_release release;
            return make_bpe_tokenizer(name, owned, merges ? &*merges : nullptr, whole_piece_lookup,
                                      pattern, std::move(specials), source);
          },
          py::arg("name"), py::arg("tokens"), py::arg("merges"), py::arg("whole_piece_lookup"),
          py::arg("pattern"), py::arg("special_tokens"), py::arg("source"),
          "A tokenizer from (bytes, id) tokens and merges (id pairs; None: ids are ranks).")
      .def(
          "encode_piece",
          [](const BpeTokenizer& t, const py::bytes& piece) {
            const std::string_view view = piece;
            std::vector<uint32_t> ids;
            if (!view.empty()) {
              py::gil_scoped_release release;
              const auto* p = reinterpret_cast<const uint8_t*>(view.data());
              t.model().encode_piece(p, view.size(), view.size(), ids);
            }
            return to_numpy(std::move(ids));
          },
          py::arg("piece"), "BPE of one piece of bytes, without pre-tokenization.")
      .def_property_readonly("name", &BpeTokenizer::name)
      .def_property_readonly("n_vocab", &BpeTokenizer::n_vocab)
      .def_property_readonly(
          "pretokenizer", [](const BpeTokenizer& t) { return pretokenizer_name(t.pretokenizer()); })
      .def_property_readonly("special_tokens",
                             [](const BpeTokenizer& t) {
                               std::vector<std::pair<std::string, uint32_t>> out;
                               for (const SpecialToken& s : t.special_tokens().tokens())
                                 out.emplace_back(s.text, s.id);
                               return out;
                             })
      .def(
          "encode",
          [](const BpeTokenizer& t, const py::str& text, const std::vector<std::string>& allowed) {
            const std::string_view view = utf8_of(text);
            const std::vector<char> mask = special_mask(t, allowed);
            std::vector<uint32_t> ids;
            {
              py::gil_scoped_release release;
              t.encode(view, mask_or_null(mask), ids);
            }
            return to_numpy(std::move(ids));
          },
          py::arg("text"), py::arg("allowed_special"), "Token ids (uint32).")
      .def(
          "count",
          [](const BpeTokenizer& t, const py::str& text, const std::vector<std::string>& allowed) {
            const std::string_view view = utf8_of(text);
            const std::vector<char> mask = special_mask(t, allowed);
            py::gil_scoped_release release;
            return t.count(view, mask_or_null(mask));
          },
          py::arg("text"), py::arg("allowed_special"), "Number of tokens.")
      .def(
          "count_many",
          [](const BpeTokenizer& t, const py::list& texts, const std::vector<std::string>& allowed,
             std::size_t threads) {
            std::vector<std::string_view> views;
            views.reserve(texts.size());
            for (const py::handle& item : texts) views.push_back(utf8_of(item));
            const std::vector<char> mask = special_mask(t, allowed);
            std::vector<int64_t> out(views.size());
            {
              py::gil_scoped_release release;
              t.count_many(views, mask_or_null(mask), threads, out.data());
            }
            return to_numpy(std::move(out));
          },
          py::arg("texts"), py::arg("allowed_special"), py::arg("threads"),
          "Token counts of many texts (int64), on `threads` threads (0 = all cores).")
      .def(
          "encode_with_offsets",
          [](const BpeTokenizer& t, const py::str& text, const std::vector<std::string>& allowed) {
            const std::string_view view = utf8_of(text);
            const std::vector<char> mask = special_mask(t, allowed);
            std::vector<uint32_t> ids;
            std::vector<int64_t> starts;
            {
              py::gil_scoped_release release;
              std::vector<std::size_t> bytes;
              t.encode_with_offsets(view, mask_or_null(mask), ids, bytes);
              starts.assign(bytes.begin(), bytes.end());
              OffsetMap(view).chars_of_bytes(starts.data(), starts.size(), starts.data());
            }
            return py::make_tuple(to_numpy(std::move(ids)), to_numpy(std::move(starts)));
          },
          py::arg("text"), py::arg("allowed_special"),
          "(ids, starts): token ids and the str index where each token starts.")
      .def(
          "count_until",
          [](const BpeTokenizer& t, const py::str& text, std::size_t limit) {
            const std::string_view view = utf8_of(text);
            py::gil_scoped_release release;
            const BpeTokenizer::Prefix p = t.count_until(view, limit);
            const std::size_t end = OffsetMap(view.substr(0, p.end)).size_chars();
            return std::make_pair(p.count, end);
          },
          py::arg("text"), py::arg("limit"),
          "(count, end) of the longest prefix text[:end] within the limit.")
      .def(
          "find_special",
          [](const BpeTokenizer& t, const py::str& text,
             const std::vector<std::string>& names) -> py::object {
            const std::string_view view = utf8_of(text);
            const std::vector<char> mask = t.special_tokens().mask(names);
            std::size_t index = 0, pos;
            {
              py::gil_scoped_release release;
              pos = t.special_tokens().find(view, 0, &mask, &index);
            }
            if (pos == SpecialTokens::npos) return py::none();
            const std::size_t at = OffsetMap(view.substr(0, pos)).size_chars();
            return py::make_tuple(at, py::str(t.special_tokens()[index].text));
          },
          py::arg("text"), py::arg("names"),
          "(str index, token) of the leftmost named special token in text, or None.")
      .def(
          "safe_seams",
          [](const BpeTokenizer& t, const py::str& text, std::size_t part_bytes) {
            const std::string_view view = utf8_of(text);
            std::vector<int64_t> out;
            {
              py::gil_scoped_release release;
              const std::vector<std::size_t> seams = t.seams(view, part_bytes);
              out.assign(seams.begin(), seams.end());
              OffsetMap(view).chars_of_bytes(out.data(), out.size(), out.data());
            }
            return to_numpy(std::move(out));
          },
          py::arg("text"), py::arg("part_bytes"),
          "Where count_many cuts a long text (str indices), for parts of >= part_bytes.")
      .def(
          "decode_bytes",
          [](const BpeTokenizer& t, const py::array_t<uint32_t, py::array::c_style>& ids) {
            std::string out;
            {
              py::gil_scoped_release release;
              t.decode(ids.data(), static_cast<std::size_t>(ids.size()), out);
            }
            return py::bytes(out);
          },
          py::arg("ids").noconvert(), "The bytes of the tokens (uint32 ids).")
      .def(
          "spans",
          [](const Tokenizer& t, const py::str& text) {
            std::string copy(utf8_of(text));
            py::gil_scoped_release release;
            return std::make_shared<CharSpanCounter>(t, std::move(copy));
          },
          py::arg("text"), "An exact span counter over text (str offsets).");
}

}  // namespace ctxengine::bindings
