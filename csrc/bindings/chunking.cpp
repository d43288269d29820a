// Bindings of chunking (csrc/chunking): convert, release the GIL, call, wrap.
//
// The tokenizer is either a native BpeTokenizer (its span counters and token offsets), the span
// counting of a tokenizer.json pipeline (hf::SpanCounting), or any Python callable
// count(str) -> int, wrapped as a SpanCounter that takes the GIL only while it
// calls back into Python.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/modules.hpp"
#include "chunking/callback_counter.hpp"
#include "chunking/chunk.hpp"
#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/hf_span_counter.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using Int64s = py::array_t<int64_t, py::array::c_style>;

// A vector handed to NumPy without a copy: the array owns it through a capsule.
Int64s to_array(std::vector<int64_t>&& v) {
  auto* heap = new std::vector<int64_t>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<int64_t>*>(p); });
  return Int64s({static_cast<py::ssize_t>(heap->size())}, {sizeof(int64_t)}, heap->data(), owner);
}

// The str's UTF-8 form, which CPython caches in the object (no copy for ASCII text).
std::string_view utf8_view(const py::handle& s) {
  if (!PyUnicode_Check(s.ptr())) throw py::type_error("expected a str");
  Py_ssize_t size;
  const char* data = PyUnicode_AsUTF8AndSize(s.ptr(), &size);
  if (!data) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

std::size_t checked_count(const py::object& result) {
  if (!PyLong_Check(result.ptr()) || PyBool_Check(result.ptr()))
    throw_error(ErrorKind::InvalidArgument,
                "the tokenizer callable must return an int (a token count), got " +
                    std::string(py::str(py::type::of(result).attr("__name__"))));
  const auto value = result.cast<long long>();
  if (value < 0)
    throw_error(ErrorKind::InvalidArgument,
                "the tokenizer callable returned a negative count (" + std::to_string(value) + ")");
  return static_cast<std::size_t>(value);
}

// A native tokenizer's counters and offsets, or counters over a Python callable. The callable
// is shared by the counters and released with the GIL held.
ChunkTokenizer chunk_tokenizer(const py::object& tokenizer) {
  if (py::isinstance<BpeTokenizer>(tokenizer)) {
    auto tok = tokenizer.cast<std::shared_ptr<BpeTokenizer>>();
    return ChunkTokenizer{[tok](std::string_view text) { return tok->span_counter(text); },
                          [tok](std::string_view text, std::vector<int64_t>& starts) {
                            std::vector<uint32_t> ids;
                            std::vector<std::size_t> bytes;
                            tok->encode_with_offsets(text, nullptr, ids, bytes);
                            starts.assign(bytes.begin(), bytes.end());
                          }};
  }
  if (py::isinstance<hf::SpanCounting>(tokenizer)) {  // a tokenizer.json pipeline
    auto counting = tokenizer.cast<std::shared_ptr<hf::SpanCounting>>();
    return ChunkTokenizer{
        [counting](std::string_view text) { return counting->span_counter(text); },
        [counting](std::string_view text, std::vector<int64_t>& starts) {
          counting->token_starts(text, starts);
        }};
  }
  if (!PyCallable_Check(tokenizer.ptr()))
    throw_error(ErrorKind::InvalidArgument,
                "the tokenizer must be a native tokenizer or a callable count(str) -> int");
  auto shared = std::shared_ptr<py::object>(new py::object(tokenizer), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
  return ChunkTokenizer{[shared](std::string_view text) -> std::unique_ptr<SpanCounter> {
                          return std::make_unique<FunctionSpanCounter>(
                              text, [shared](std::string_view s) {
                                py::gil_scoped_acquire gil;
                                return checked_count((*shared)(py::str(s.data(), s.size())));
                              });
                        },
                        nullptr};
}

ChunkRequest make_request(std::size_t max_tokens, std::size_t overlap, std::string_view mode,
                          std::string_view language, std::string_view path, bool trim) {
  ChunkRequest request;
  request.mode = parse_chunk_mode(mode);
  request.language = resolve_code_language(language, path);
  request.options.max_tokens = max_tokens;
  request.options.overlap = overlap;
  request.options.trim = trim;
  Chunker check(request.options);  // reports bad options before any work
  return request;
}

py::tuple wrap(Chunks&& c) {
  py::list headings;
  for (const Heading& h : c.headings)
    headings.append(py::make_tuple(py::str(h.title.data(), h.title.size()), h.level, h.parent));
  return py::make_tuple(to_array(std::move(c.starts)), to_array(std::move(c.ends)),
                        to_array(std::move(c.tokens)), to_array(std::move(c.heading)), headings);
}

class PyChunkStream {
 public:
  PyChunkStream(const py::object& tokenizer, const ChunkRequest& request)
      : stream_(request, chunk_tokenizer(tokenizer).counters) {}

  py::tuple feed(const py::str& data, bool eof) {
    const std::string_view view = utf8_view(data);
    std::vector<std::string> texts;
    Chunks chunks;
    {
      py::gil_scoped_release release;
      chunks = stream_.feed(view, eof, &texts);
    }
    py::list text_list;
    for (const std::string& t : texts) text_list.append(py::str(t.data(), t.size()));
    return py::make_tuple(wrap(std::move(chunks)), text_list);
  }

  std::size_t buffered_bytes() const { return stream_.buffered_bytes(); }

 private:
  ChunkStream stream_;
};

}  // namespace

void bind_chunking(py::module_& root) {
  py::module_ m = root.def_submodule("chunking", "Token-bounded chunking");
  m.def(
      "chunk_text",
      [](const py::str& text, const py::object& tokenizer, std::size_t max_tokens,
         std::size_t overlap, std::string_view mode, std::string_view language,
         std::string_view path, bool trim, std::size_t threads,
         const std::optional<Int64s>& token_starts) {
        const ChunkRequest request = make_request(max_tokens, overlap, mode, language, path, trim);
        const std::string_view view = utf8_view(text);
        ChunkTokenizer tok = chunk_tokenizer(tokenizer);
        std::vector<int64_t> starts;
        if (token_starts) {  // str offsets from a tokenizer without native offsets
          const int64_t* data = token_starts->data();
          starts.assign(data, data + token_starts->size());
          tok.token_starts = [&starts](std::string_view t, std::vector<int64_t>& out) {
            out.resize(starts.size());
            OffsetMap(t).bytes_of_chars(starts.data(), starts.size(), out.data());
          };
        }
        Chunks chunks;
        {
          py::gil_scoped_release release;
          chunks = chunk_any(view, tok, request, threads);
        }
        return wrap(std::move(chunks));
      },
      py::arg("text"), py::arg("tokenizer"), py::arg("max_tokens"), py::arg("overlap"),
      py::arg("mode"), py::arg("language"), py::arg("path"), py::arg("trim"),
      py::arg("threads") = 0, py::arg("token_starts") = py::none(),
      "Chunks one text. Returns (starts, ends, tokens, heading, headings) in str offsets.\n"
      "token_starts (str offsets) serve by='tokens' for tokenizers without native offsets.");
  m.def(
      "chunk_many",
      [](const py::list& texts, const py::object& tokenizer, std::size_t max_tokens,
         std::size_t overlap, std::string_view mode, std::string_view language,
         std::string_view path, bool trim, std::size_t threads) {
        const ChunkRequest request = make_request(max_tokens, overlap, mode, language, path, trim);
        std::vector<std::string_view> views;
        views.reserve(texts.size());
        for (const py::handle& t : texts) views.push_back(utf8_view(t));
        const ChunkTokenizer tok = chunk_tokenizer(tokenizer);
        ChunkBatch batch;
        {
          py::gil_scoped_release release;
          batch = chunk_many(views, tok, request, threads);
        }
        return py::make_tuple(wrap(std::move(batch.chunks)),
                              to_array(std::move(batch.doc_offsets)));
      },
      py::arg("texts"), py::arg("tokenizer"), py::arg("max_tokens"), py::arg("overlap"),
      py::arg("mode"), py::arg("language"), py::arg("path"), py::arg("trim"),
      py::arg("threads") = 0,
      "Chunks many texts on all cores. Returns (chunks as chunk_text, doc_offsets).");
  m.def(
      "boundaries",
      [](const py::str& text, std::string_view mode, std::string_view language,
         std::string_view path) {
        const std::string_view view = utf8_view(text);
        const ChunkRequest request = make_request(1, 0, mode, language, path, true);
        std::vector<int64_t> positions, levels;
        {
          py::gil_scoped_release release;
          scan_boundaries(view, request, &positions, &levels);
        }
        return py::make_tuple(to_array(std::move(positions)), to_array(std::move(levels)));
      },
      py::arg("text"), py::arg("mode"), py::arg("language") = "", py::arg("path") = "",
      "The stored boundaries of a text (str offsets) and their levels, for tests.");
  m.def(
      "code_family",
      [](std::string_view language, std::string_view path) {
        switch (resolve_code_language(language, path)) {
          case CodeLanguage::Python:
            return "python";
          case CodeLanguage::Braces:
            return "braces";
          case CodeLanguage::Indent:
            break;
        }
        return "indent";
      },
      py::arg("language"), py::arg("path") = "",
      "How a language (or else a file name) nests: python, braces or indent.");
  py::class_<PyChunkStream>(m, "ChunkStream", "Chunks text fed block by block.")
      .def(py::init([](const py::object& tokenizer, std::size_t max_tokens, std::size_t overlap,
                       std::string_view mode, std::string_view language, std::string_view path,
                       bool trim) {
             return new PyChunkStream(
                 tokenizer, make_request(max_tokens, overlap, mode, language, path, trim));
           }),
           py::arg("tokenizer"), py::arg("max_tokens"), py::arg("overlap"), py::arg("mode"),
           py::arg("language"), py::arg("path"), py::arg("trim"))
      .def("feed", &PyChunkStream::feed, py::arg("data"), py::arg("eof"),
           "Appends text; returns the chunks now final: (arrays, new headings), texts.")
      .def_property_readonly("buffered_bytes", &PyChunkStream::buffered_bytes);
}

}  // namespace ctxengine::bindings
