// Bindings of the lexical index (csrc/index): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bindings/modules.hpp"
#include "common/error.hpp"
#include "index/analyzer.hpp"
#include "index/bm25.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using Int64s = py::array_t<int64_t, py::array::c_style>;
using Bytes = py::array_t<uint8_t, py::array::c_style>;

// A read-only view of a bytes-like object (bytes, bytearray, numpy uint8, mmap) without copying.
std::string_view byte_view(const py::buffer& data) {
  py::buffer_info info = data.request();
  if (info.ndim > 1 || info.itemsize != 1)
    throw py::value_error("data must be a 1-D bytes-like object (bytes, numpy uint8, mmap)");
  return {static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size)};
}

template <typename T>
ArrayView<T> view_of(const py::dict& arrays, const char* name) {
  if (!arrays.contains(name))
    throw_error(ErrorKind::Format, std::string("the BM25 index has no array '") + name + "'");
  py::array a = arrays[name];
  if (a.ndim() != 1 || a.itemsize() != sizeof(T) || !(a.flags() & py::array::c_style))
    throw_error(ErrorKind::Format,
                std::string("the BM25 index array '") + name + "' has the wrong type or shape");
  return {static_cast<const T*>(a.data()), static_cast<std::size_t>(a.shape(0))};
}

template <typename T>
py::array_t<T> array_of(const ArrayView<T>& v, py::handle owner) {
  return py::array_t<T>({v.size}, {sizeof(T)}, v.data, owner);
}

// Statistics from outside: (n_docs, total_length, {term: df}), or None.
std::optional<ExternalStats> stats_from(const py::object& stats) {
  if (stats.is_none()) return std::nullopt;
  auto t = stats.cast<py::tuple>();
  if (t.size() != 3)
    throw py::value_error("stats must be a tuple (n_docs, total_length, {term: df})");
  ExternalStats s;
  s.n_docs = t[0].cast<uint64_t>();
  s.total_length = t[1].cast<uint64_t>();
  for (auto item : t[2].cast<py::dict>())
    s.df[item.first.cast<std::string>()] = item.second.cast<uint64_t>();
  return s;
}

}  // namespace

void bind_index(py::module_& root) {
  py::module_ m = root.def_submodule("index", "The BM25 lexical index");

  py::enum_<CjkMode>(m, "CjkMode")
      .value("unigrams", CjkMode::Unigrams)
      .value("bigrams", CjkMode::Bigrams);
  py::enum_<Bm25Variant>(m, "Bm25Variant")
      .value("lucene", Bm25Variant::Lucene)
      .value("robertson", Bm25Variant::Robertson)
      .value("atire", Bm25Variant::Atire);

  py::class_<AnalyzerOptions>(m, "AnalyzerOptions")
      .def(py::init([](bool lowercase, CjkMode cjk, bool stop_words, bool stem,
                       std::size_t max_term_bytes) {
             return AnalyzerOptions{lowercase, cjk, stop_words, stem, max_term_bytes};
           }),
           py::kw_only(), py::arg("lowercase") = true,
           py::arg_v("cjk", CjkMode::Bigrams, "CjkMode.bigrams"), py::arg("stop_words") = false,
           py::arg("stem") = false, py::arg("max_term_bytes") = 255)
      .def_readonly("lowercase", &AnalyzerOptions::lowercase)
      .def_readonly("cjk", &AnalyzerOptions::cjk)
      .def_readonly("stop_words", &AnalyzerOptions::stop_words)
      .def_readonly("stem", &AnalyzerOptions::stem)
      .def_readonly("max_term_bytes", &AnalyzerOptions::max_term_bytes);

  py::class_<Bm25Params>(m, "Bm25Params")
      .def(py::init(
               [](double k1, double b, Bm25Variant variant) { return Bm25Params{k1, b, variant}; }),
           py::kw_only(), py::arg("k1") = 1.5, py::arg("b") = 0.75,
           py::arg_v("variant", Bm25Variant::Lucene, "Bm25Variant.lucene"))
      .def_readonly("k1", &Bm25Params::k1)
      .def_readonly("b", &Bm25Params::b)
      .def_readonly("variant", &Bm25Params::variant);

  m.def(
      "analyze",
      [](const py::bytes& text, const AnalyzerOptions& options) {
        TermBuffer buf;
        {
          std::string_view view = text;
          py::gil_scoped_release release;
          analyze(view, options, buf);
        }
        py::list out;
        for (std::size_t i = 0; i < buf.size(); ++i) {
          const std::string_view t = buf.term(i);
          out.append(py::str(t.data(), t.size()));
        }
        return out;
      },
      py::arg("text"), py::arg("options"), "The index terms of UTF-8 `text`, in order.");
  m.def("english_stop_words", []() {
    py::list out;
    for (auto w : english_stop_words()) out.append(py::str(w.data(), w.size()));
    return out;
  });

  py::class_<Bm25Index, std::shared_ptr<Bm25Index>>(m, "Bm25Index")
      .def_static(
          "build",
          [](const py::buffer& data, const Int64s& starts, const Int64s& ends,
             const AnalyzerOptions& analyzer, const Bm25Params& params, std::size_t threads) {
            if (starts.ndim() != 1 || ends.ndim() != 1 || starts.shape(0) != ends.shape(0))
              throw py::value_error("starts and ends must be 1-D arrays of the same length");
            const std::string_view view = byte_view(data);
            const int64_t* s = starts.data();
            const int64_t* e = ends.data();
            const auto n = static_cast<std::size_t>(starts.shape(0));
            py::gil_scoped_release release;
            return Bm25Index::build(view, s, e, n, analyzer, params, threads);
          },
          py::arg("data"), py::arg("starts").noconvert(), py::arg("ends").noconvert(),
          py::arg("analyzer"), py::arg("params"), py::arg("threads") = 0,
          "Index the documents data[starts[i]:ends[i]] (UTF-8 bytes) on all cores.")
      .def_static(
          "from_arrays",
          [](const py::dict& arrays, const AnalyzerOptions& analyzer, const Bm25Params& params) {
            Bm25Arrays a;
            a.term_bytes = view_of<char>(arrays, "term_bytes");
            a.term_offsets = view_of<uint64_t>(arrays, "term_offsets");
            a.term_df = view_of<uint32_t>(arrays, "term_df");
            a.term_blocks = view_of<uint64_t>(arrays, "term_blocks");
            a.block_last_doc = view_of<uint32_t>(arrays, "block_last_doc");
            a.block_max = view_of<float>(arrays, "block_max");
            a.block_offsets = view_of<uint64_t>(arrays, "block_offsets");
            a.postings = view_of<unsigned char>(arrays, "postings");
            a.doc_lengths = view_of<uint32_t>(arrays, "doc_lengths");
            py::gil_scoped_release release;
            return Bm25Index::from_arrays(a, analyzer, params);
          },
          py::arg("arrays"), py::arg("analyzer"), py::arg("params"), py::keep_alive<0, 1>(),
          "Wrap the arrays of `arrays()` (e.g. memory-mapped) without copying them.")
      .def(
          "arrays",
          [](const py::object& self) {
            const auto& a = self.cast<const Bm25Index&>().arrays();
            py::dict out;
            out["term_bytes"] =
                array_of(ArrayView<uint8_t>{reinterpret_cast<const uint8_t*>(a.term_bytes.data),
                                            a.term_bytes.size},
                         self);
            out["term_offsets"] = array_of(a.term_offsets, self);
            out["term_df"] = array_of(a.term_df, self);
            out["term_blocks"] = array_of(a.term_blocks, self);
            out["block_last_doc"] = array_of(a.block_last_doc, self);
            out["block_max"] = array_of(a.block_max, self);
            out["block_offsets"] = array_of(a.block_offsets, self);
            out["postings"] = array_of(ArrayView<uint8_t>{a.postings.data, a.postings.size}, self);
            out["doc_lengths"] = array_of(a.doc_lengths, self);
            return out;
          },
          "The index's arrays as read-only NumPy views (no copies).")
      .def_property_readonly("n_docs", &Bm25Index::n_docs)
      .def_property_readonly("n_terms", &Bm25Index::n_terms)
      .def_property_readonly("avgdl", &Bm25Index::avgdl)
      .def_property_readonly("analyzer", &Bm25Index::analyzer)
      .def_property_readonly("params", &Bm25Index::params)
      .def(
          "term",
          [](const Bm25Index& self, std::size_t t) {
            if (t >= self.n_terms()) throw py::index_error("term id out of range");
            const std::string_view s = self.term(t);
            return py::str(s.data(), s.size());
          },
          py::arg("term_id"))
      .def(
          "idf",
          [](const Bm25Index& self, std::size_t t) {
            if (t >= self.n_terms()) throw py::index_error("term id out of range");
            return self.idf(t);
          },
          py::arg("term_id"))
      .def(
          "find_term",
          [](const Bm25Index& self, const py::bytes& term) {
            return self.find_term(std::string_view(term));
          },
          py::arg("term"), "The id of an analysed term (UTF-8 bytes), or -1.")
      .def("stats", &Bm25Index::stats, "(documents, total length in terms).")
      .def(
          "term_stats",
          [](const Bm25Index& self, const py::bytes& query) {
            const std::string q = query;
            py::gil_scoped_release release;
            return self.term_stats(q);
          },
          py::arg("query"),
          "The query's distinct analysed terms with their document frequency here (0: absent).")
      .def(
          "search",
          [](const Bm25Index& self, const py::bytes& query, std::size_t k,
             const std::optional<Bytes>& live, bool exhaustive, const py::object& stats) {
            if (live &&
                (live->ndim() != 1 || static_cast<std::size_t>(live->shape(0)) != self.n_docs()))
              throw py::value_error("live must be a uint8 array with one byte per document");
            const std::string q = query;
            const uint8_t* mask = live ? live->data() : nullptr;
            const std::optional<ExternalStats> st = stats_from(stats);
            py::array_t<float> scores(k);
            py::array_t<int64_t> docs(k);
            float* s = scores.mutable_data();
            int64_t* d = docs.mutable_data();
            std::size_t found;
            {
              py::gil_scoped_release release;
              found =
                  self.search(self.parse_query(q), k, mask, s, d, exhaustive, st ? &*st : nullptr);
            }
            scores.resize({found});
            docs.resize({found});
            return py::make_tuple(scores, docs);
          },
          py::arg("query"), py::arg("k"), py::arg("live") = py::none(),
          py::arg("exhaustive") = false, py::kw_only(), py::arg("stats") = py::none(),
          "Top-k (scores, doc ids) of a UTF-8 query, best first; `live` masks documents out.\n"
          "`stats` (n_docs, total_length, {term: df}) replaces the index's statistics.")
      .def(
          "search_many",
          [](const Bm25Index& self, const std::vector<py::bytes>& queries, std::size_t k,
             const std::optional<Bytes>& live, std::size_t threads, const py::object& stats) {
            if (live &&
                (live->ndim() != 1 || static_cast<std::size_t>(live->shape(0)) != self.n_docs()))
              throw py::value_error("live must be a uint8 array with one byte per document");
            std::vector<std::string> owned(queries.begin(), queries.end());
            std::vector<std::string_view> views(owned.begin(), owned.end());
            const std::size_t nq = views.size();
            py::array_t<float> scores({nq, k});
            py::array_t<int64_t> docs({nq, k});
            py::array_t<int64_t> counts(nq);
            const uint8_t* mask = live ? live->data() : nullptr;
            const std::optional<ExternalStats> st = stats_from(stats);
            float* s = scores.mutable_data();
            int64_t* d = docs.mutable_data();
            int64_t* c = counts.mutable_data();
            {
              py::gil_scoped_release release;
              self.search_many(views, k, mask, s, d, c, threads, st ? &*st : nullptr);
            }
            return py::make_tuple(scores, docs, counts);
          },
          py::arg("queries"), py::arg("k"), py::arg("live") = py::none(), py::arg("threads") = 0,
          py::kw_only(), py::arg("stats") = py::none(),
          "Top-k of many UTF-8 queries on all cores: (scores nq x k, doc ids nq x k, counts).");
}

}  // namespace ctxengine::bindings
