// Bindings of the lexical index (csrc/index): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bindings/modules.hpp"
#include "common/error.hpp"
#include "index/analyzer.hpp"
#include "index/bm25_index.hpp"
#include "index/kernels.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using Int64s = py::array_t<int64_t, py::array::c_style>;
using Bytes = py::array_t<uint8_t, py::array::c_style>;
using U32s = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;

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
    throw_error(ErrorKind::Format, std::string("the BM25 segment has no array '") + name + "'");
  py::array a = arrays[name];
  if (a.ndim() != 1 || a.itemsize() != sizeof(T) || !(a.flags() & py::array::c_style))
    throw_error(ErrorKind::Format,
                std::string("the BM25 segment array '") + name + "' has the wrong type or shape");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0)
    throw_error(ErrorKind::Format,
                std::string("the BM25 segment array '") + name + "' is not aligned to its items");
  return {static_cast<const T*>(a.data()), static_cast<std::size_t>(a.shape(0))};
}

template <typename T>
py::array_t<T> array_of(const ArrayView<T>& v, py::handle owner) {
  return py::array_t<T>({v.size}, {sizeof(T)}, v.data, owner);
}

// Keeps a segment alive for the NumPy views of its arrays.
struct SegmentHandle {
  std::shared_ptr<const Segment> segment;
};

py::dict arrays_of(const std::shared_ptr<const Segment>& seg) {
  py::object owner = py::cast(SegmentHandle{seg});
  const SegmentArrays& a = seg->arrays();
  py::dict out;
  out["term_bytes"] = array_of(
      ArrayView<uint8_t>{reinterpret_cast<const uint8_t*>(a.term_bytes.data), a.term_bytes.size},
      owner);
  out["term_offsets"] = array_of(a.term_offsets, owner);
  out["term_df"] = array_of(a.term_df, owner);
  out["term_blocks"] = array_of(a.term_blocks, owner);
  out["term_impacts"] = array_of(a.term_impacts, owner);
  out["block_last_doc"] = array_of(a.block_last_doc, owner);
  out["block_offsets"] = array_of(a.block_offsets, owner);
  out["block_impacts"] = array_of(a.block_impacts, owner);
  out["impacts"] = array_of(a.impacts, owner);
  out["postings"] = array_of(ArrayView<uint8_t>{a.postings.data, a.postings.size}, owner);
  out["doc_lengths"] = array_of(a.doc_lengths, owner);
  out["doc_keys"] = array_of(a.doc_keys, owner);
  out["impact_norm"] = array_of(a.impact_norm, owner);
  out["pairs"] = array_of(a.pairs, owner);
  return out;
}

SegmentArrays arrays_from(const py::dict& d) {
  SegmentArrays a;
  a.term_bytes = view_of<char>(d, "term_bytes");
  a.term_offsets = view_of<uint64_t>(d, "term_offsets");
  a.term_df = view_of<uint32_t>(d, "term_df");
  a.term_blocks = view_of<uint64_t>(d, "term_blocks");
  a.term_impacts = view_of<uint64_t>(d, "term_impacts");
  a.block_last_doc = view_of<uint32_t>(d, "block_last_doc");
  a.block_offsets = view_of<uint64_t>(d, "block_offsets");
  a.block_impacts = view_of<uint64_t>(d, "block_impacts");
  a.impacts = view_of<uint32_t>(d, "impacts");
  a.postings = view_of<unsigned char>(d, "postings");
  a.doc_lengths = view_of<uint32_t>(d, "doc_lengths");
  a.doc_keys = view_of<int64_t>(d, "doc_keys");
  a.impact_norm = view_of<float>(d, "impact_norm");
  a.pairs = view_of<uint32_t>(d, "pairs");
  return a;
}

std::optional<ExternalStats> stats_from(const py::object& stats) {
  if (stats.is_none()) return std::nullopt;
  auto t = stats.cast<py::tuple>();
  if (t.size() != 3)
    throw py::value_error("stats must be a tuple (n_docs, total_length, {term: df})");
  ExternalStats s;
  s.corpus.n_docs = t[0].cast<uint64_t>();
  s.corpus.total_length = t[1].cast<uint64_t>();
  for (auto item : t[2].cast<py::dict>())
    s.df[item.first.cast<std::string>()] = item.second.cast<uint64_t>();
  return s;
}

struct Filter {
  const uint8_t* data = nullptr;
  std::size_t size = 0;
};

Filter filter_of(const std::optional<Bytes>& filter) {
  if (!filter) return {};
  if (filter->ndim() != 1) throw py::value_error("filter must be a 1-D uint8 array over keys");
  return {filter->data(), static_cast<std::size_t>(filter->shape(0))};
}

py::tuple hits_to_arrays(const std::vector<Hit>& hits) {
  py::array_t<float> scores(hits.size());
  py::array_t<int64_t> keys(hits.size());
  float* s = scores.mutable_data();
  int64_t* k = keys.mutable_data();
  for (std::size_t i = 0; i < hits.size(); ++i) {
    s[i] = hits[i].score;
    k[i] = hits[i].key;
  }
  return py::make_tuple(scores, keys);
}

void check_ranges(const Int64s& starts, const Int64s& ends, const std::optional<Int64s>& keys) {
  if (starts.ndim() != 1 || ends.ndim() != 1 || starts.shape(0) != ends.shape(0))
    throw py::value_error("starts and ends must be 1-D arrays of the same length");
  if (keys && (keys->ndim() != 1 || keys->shape(0) != starts.shape(0)))
    throw py::value_error("keys must be a 1-D array with one key per document");
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
  py::enum_<Strategy>(m, "Strategy")
      .value("auto", Strategy::Auto)
      .value("exhaustive", Strategy::Exhaustive)
      .value("taat", Strategy::Taat)
      .value("maxscore", Strategy::MaxScore)
      .value("bmw", Strategy::Bmw);

  py::class_<AnalyzerOptions>(m, "AnalyzerOptions")
      .def(py::init([](bool lowercase, CjkMode cjk, bool stop_words, bool stem,
                       std::size_t max_term_bytes, std::size_t min_word_chars) {
             return AnalyzerOptions{lowercase,      cjk,           stop_words, stem,
                                    max_term_bytes, min_word_chars};
           }),
           py::kw_only(), py::arg("lowercase") = true,
           py::arg_v("cjk", CjkMode::Bigrams, "CjkMode.bigrams"), py::arg("stop_words") = false,
           py::arg("stem") = false, py::arg("max_term_bytes") = 255, py::arg("min_word_chars") = 1)
      .def_readonly("lowercase", &AnalyzerOptions::lowercase)
      .def_readonly("cjk", &AnalyzerOptions::cjk)
      .def_readonly("stop_words", &AnalyzerOptions::stop_words)
      .def_readonly("stem", &AnalyzerOptions::stem)
      .def_readonly("max_term_bytes", &AnalyzerOptions::max_term_bytes)
      .def_readonly("min_word_chars", &AnalyzerOptions::min_word_chars);

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
  m.def(
      "set_kernels", [](const std::string& name) { return set_kernels(name.c_str()); },
      py::arg("name"), "Use the 'scalar', 'avx2' or 'auto' query kernels; False if unavailable.");
  m.def("kernels", []() { return std::string(kernels().name); }, "The query kernels in use.");
  m.def(
      "set_parallel_grain",
      [](uint32_t range_docs, uint64_t min_postings) {
        set_parallel_grain({range_docs, min_postings});
      },
      py::arg("range_docs"), py::arg("min_postings"),
      "For tests: split queries of this many postings over threads, in ranges of documents.");
  m.def(
      "parallel_grain",
      []() {
        const ParallelGrain g = parallel_grain();
        return py::make_tuple(g.range_docs, g.min_postings);
      },
      "(range_docs, min_postings) of the split of large queries over threads.");

  py::class_<SegmentHandle>(m, "SegmentHandle");

  py::class_<Bm25Index, std::shared_ptr<Bm25Index>>(m, "Bm25Index")
      .def(py::init([](const AnalyzerOptions& analyzer, const Bm25Params& params,
                       std::size_t flush_docs, std::size_t merge_factor) {
             return std::make_shared<Bm25Index>(analyzer, params,
                                                IndexConfig{flush_docs, merge_factor});
           }),
           py::arg("analyzer"), py::arg("params"), py::kw_only(), py::arg("flush_docs") = 4096,
           py::arg("merge_factor") = 8)
      .def_static(
          "build",
          [](const py::buffer& data, const Int64s& starts, const Int64s& ends,
             const AnalyzerOptions& analyzer, const Bm25Params& params, std::size_t threads,
             const std::optional<Int64s>& keys, std::size_t flush_docs, std::size_t merge_factor) {
            check_ranges(starts, ends, keys);
            const std::string_view view = byte_view(data);
            const auto n = static_cast<std::size_t>(starts.shape(0));
            std::vector<int64_t> own;
            const int64_t* k = nullptr;
            if (keys) {
              k = keys->data();
            } else {
              own.resize(n);
              for (std::size_t i = 0; i < n; ++i) own[i] = static_cast<int64_t>(i);
              k = own.data();
            }
            const int64_t* s = starts.data();
            const int64_t* e = ends.data();
            py::gil_scoped_release release;
            return Bm25Index::build(view, s, e, k, n, analyzer, params,
                                    IndexConfig{flush_docs, merge_factor}, threads);
          },
          py::arg("data"), py::arg("starts").noconvert(), py::arg("ends").noconvert(),
          py::arg("analyzer"), py::arg("params"), py::arg("threads") = 0, py::kw_only(),
          py::arg("keys").noconvert() = py::none(), py::arg("flush_docs") = 4096,
          py::arg("merge_factor") = 8,
          "One segment over data[starts[i]:ends[i]] (UTF-8) with keys (default 0..n-1).")
      .def_static(
          "from_segments",
          [](const py::list& segments, const AnalyzerOptions& analyzer, const Bm25Params& params,
             bool verify, std::size_t threads, std::size_t flush_docs, std::size_t merge_factor) {
            std::vector<SegmentState> states;
            std::vector<SegmentArrays> arrays;
            for (auto item : segments) {
              auto t = item.cast<py::tuple>();
              if (t.size() != 3)
                throw py::value_error("each segment is (arrays, deleted, deleted_df)");
              arrays.push_back(arrays_from(t[0].cast<py::dict>()));
              SegmentState s;
              auto deleted = t[1].cast<U32s>();
              auto ddf = t[2].cast<U32s>();
              if (deleted.ndim() != 1 || ddf.ndim() != 2 || ddf.shape(1) != 2)
                throw_error(ErrorKind::Format, "a segment's deletions have the wrong shape");
              s.deleted.assign(deleted.data(), deleted.data() + deleted.shape(0));
              for (py::ssize_t i = 0; i < ddf.shape(0); ++i)
                s.deleted_df.emplace_back(ddf.at(i, 0), ddf.at(i, 1));
              states.push_back(std::move(s));
            }
            py::gil_scoped_release release;
            for (std::size_t i = 0; i < states.size(); ++i)
              states[i].segment = Segment::from_arrays(arrays[i], params);
            return Bm25Index::from_segments(std::move(states), analyzer, params,
                                            IndexConfig{flush_docs, merge_factor}, verify, threads);
          },
          py::arg("segments"), py::arg("analyzer"), py::arg("params"), py::kw_only(),
          py::arg("verify") = true, py::arg("threads") = 0, py::arg("flush_docs") = 4096,
          py::arg("merge_factor") = 8, py::keep_alive<0, 1>(),
          "An index over saved segments [(arrays, deleted, deleted_df)], wrapped without copies.")
      .def(
          "add",
          [](Bm25Index& self, const py::buffer& data, const Int64s& starts, const Int64s& ends,
             const Int64s& keys, std::size_t threads) {
            check_ranges(starts, ends, keys);
            const std::string_view view = byte_view(data);
            const auto n = static_cast<std::size_t>(starts.shape(0));
            const int64_t *s = starts.data(), *e = ends.data(), *k = keys.data();
            py::gil_scoped_release release;
            self.add(view, s, e, k, n, threads);
          },
          py::arg("data"), py::arg("starts").noconvert(), py::arg("ends").noconvert(),
          py::arg("keys").noconvert(), py::arg("threads") = 0)
      .def(
          "remove",
          [](Bm25Index& self, const Int64s& keys, const py::buffer& data, const Int64s& starts,
             const Int64s& ends) {
            check_ranges(starts, ends, keys);
            const std::string_view view = byte_view(data);
            const auto n = static_cast<std::size_t>(starts.shape(0));
            const int64_t *s = starts.data(), *e = ends.data(), *k = keys.data();
            py::gil_scoped_release release;
            self.remove(k, view, s, e, n);
          },
          py::arg("keys").noconvert(), py::arg("data"), py::arg("starts").noconvert(),
          py::arg("ends").noconvert(),
          "Remove documents by key; data[starts[i]:ends[i]] is each one's text as added.")
      .def(
          "flush",
          [](Bm25Index& self, std::size_t threads) {
            py::gil_scoped_release release;
            self.flush(threads);
          },
          py::arg("threads") = 0)
      .def(
          "force_merge",
          [](Bm25Index& self, std::size_t max_segments, std::size_t threads) {
            py::gil_scoped_release release;
            return self.force_merge(max_segments, threads);
          },
          py::arg("max_segments") = 1, py::arg("threads") = 0)
      .def(
          "maintain",
          [](Bm25Index& self, bool background, std::size_t threads) {
            py::gil_scoped_release release;
            return self.maintain(background, threads);
          },
          py::arg("background") = false, py::arg("threads") = 0)
      .def(
          "hold_merges", [](Bm25Index& self, bool hold) { self.hold_merges(hold); },
          py::arg("hold"),
          "For tests: while held, a background merge waits before committing its segment.")
      .def("wait_for_merges",
           [](Bm25Index& self) {
             py::gil_scoped_release release;
             self.wait_for_merges();
           })
      .def("stats",
           [](const Bm25Index& self) {
             const CorpusStats s = self.stats();
             return py::make_tuple(s.n_docs, s.total_length);
           })
      .def(
          "term_stats",
          [](const Bm25Index& self, const py::bytes& query) {
            return self.term_stats(std::string_view(query));
          },
          py::arg("query"))
      .def(
          "search",
          [](const Bm25Index& self, const py::bytes& query, std::size_t k,
             const std::optional<Bytes>& filter, const py::object& stats, Strategy strategy,
             std::size_t threads) {
            const std::string q = query;
            const Filter f = filter_of(filter);
            const std::optional<ExternalStats> st = stats_from(stats);
            std::vector<Hit> hits;
            {
              py::gil_scoped_release release;
              hits = self.search(q, k, f.data, f.size, st ? &*st : nullptr, strategy, threads);
            }
            return hits_to_arrays(hits);
          },
          py::arg("query"), py::arg("k"), py::arg("filter") = py::none(),
          py::arg("stats") = py::none(), py::arg_v("strategy", Strategy::Auto, "Strategy.auto"),
          py::arg("threads") = 0,
          "Top-k (scores, keys) of a UTF-8 query, best first (threads: 0 = all cores).")
      .def(
          "search_many",
          [](const Bm25Index& self, const std::vector<py::bytes>& queries, std::size_t k,
             const std::optional<Bytes>& filter, const py::object& stats, std::size_t threads) {
            std::vector<std::string> owned(queries.begin(), queries.end());
            std::vector<std::string_view> views(owned.begin(), owned.end());
            const Filter f = filter_of(filter);
            const std::optional<ExternalStats> st = stats_from(stats);
            std::vector<std::vector<Hit>> hits;
            {
              py::gil_scoped_release release;
              hits = self.search_many(views, k, f.data, f.size, st ? &*st : nullptr, threads);
            }
            const std::size_t nq = views.size();
            py::array_t<float> scores({nq, k});
            py::array_t<int64_t> keys({nq, k});
            py::array_t<int64_t> counts(nq);
            float* s = scores.mutable_data();
            int64_t* kk = keys.mutable_data();
            int64_t* c = counts.mutable_data();
            for (std::size_t i = 0; i < nq; ++i) {
              c[i] = static_cast<int64_t>(hits[i].size());
              for (std::size_t j = 0; j < hits[i].size(); ++j) {
                s[i * k + j] = hits[i][j].score;
                kk[i * k + j] = hits[i][j].key;
              }
            }
            return py::make_tuple(scores, keys, counts);
          },
          py::arg("queries"), py::arg("k"), py::arg("filter") = py::none(),
          py::arg("stats") = py::none(), py::arg("threads") = 0,
          "Top-k of many UTF-8 queries on all cores: (scores nq x k, keys nq x k, counts).")
      .def(
          "segments",
          [](const Bm25Index& self) {
            py::list out;
            for (const SegmentState& s : self.segments()) {
              py::array_t<uint32_t> deleted(s.deleted.size());
              std::copy(s.deleted.begin(), s.deleted.end(), deleted.mutable_data());
              py::array_t<uint32_t> ddf({s.deleted_df.size(), std::size_t{2}});
              for (std::size_t i = 0; i < s.deleted_df.size(); ++i) {
                ddf.mutable_at(i, 0) = s.deleted_df[i].first;
                ddf.mutable_at(i, 1) = s.deleted_df[i].second;
              }
              out.append(py::make_tuple(arrays_of(s.segment), deleted, ddf));
            }
            return out;
          },
          "The segments as (arrays, deleted docs, deleted_df pairs); not the memory segment.")
      .def_property_readonly("n_segments", &Bm25Index::n_segments)
      .def_property_readonly("memory_docs", &Bm25Index::memory_docs)
      .def_property_readonly("segment_sizes", &Bm25Index::segment_sizes)
      .def_property_readonly("analyzer", &Bm25Index::analyzer)
      .def_property_readonly("params", &Bm25Index::params);
}

}  // namespace ctxengine::bindings
