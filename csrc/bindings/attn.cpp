// Bindings of the sparse-attention kernels (csrc/attn): conversion only. Arrays arrive as
// C-contiguous float32/float16 NumPy arrays (the Python layer converts and explains), results
// leave as NumPy arrays that own the core's vectors (no copy). Every kernel runs without the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "attn/block_topk.hpp"
#include "attn/coverage.hpp"
#include "attn/hash.hpp"
#include "attn/page_meta.hpp"
#include "attn/quest.hpp"
#include "attn/select.hpp"
#include "attn/simd.hpp"
#include "attn/streaming.hpp"
#include "attn/vertical_slash.hpp"
#include "bindings/modules.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using attn::DType;
using attn::HeadsView;

template <class T>
py::array_t<T> owned(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule free(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(heap->size()), heap->data(), free);
}

py::tuple csr(attn::Csr&& c) {
  return py::make_tuple(owned(std::move(c.indptr)), owned(std::move(c.indices)));
}

void require_c_contiguous(const py::array& a, const char* name) {
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous; try np.ascontiguousarray(" +
                          name + ")");
}

DType dtype_of(const py::array& a, const char* name) {
  const char kind = a.dtype().kind();
  if (kind == 'f' && a.itemsize() == 4) return DType::F32;
  if (kind == 'f' && a.itemsize() == 2) return DType::F16;
  throw py::value_error(std::string(name) + " must be float32 or float16, got " +
                        std::string(py::str(a.dtype())));
}

// A [heads, n, dim] array as a view (the array must outlive the view).
HeadsView heads_view(const py::array& a, const char* name) {
  if (a.ndim() != 3)
    throw py::value_error(std::string(name) + " must be 3-D [heads, n, D], got " +
                          std::to_string(a.ndim()) + "-D");
  require_c_contiguous(a, name);
  return HeadsView{a.data(), dtype_of(a, name), static_cast<std::size_t>(a.shape(0)),
                   static_cast<std::size_t>(a.shape(1)), static_cast<std::size_t>(a.shape(2))};
}

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

}  // namespace

void bind_attn(py::module_& root) {
  py::module_ m = root.def_submodule("attn", "Sparse-attention scoring kernels");
  m.def(
      "simd_level", [] { return attn::simd_name(attn::simd_level()); },
      "The instruction set the kernels use: 'avx512', 'avx2' or 'scalar'.");
  m.def("set_simd_level", &attn::set_simd_level, py::arg("name"),
        "Force 'scalar', 'avx2' or 'avx512', or 'auto' (the CPU and CTXENGINE_SIMD decide).");

  py::class_<attn::PageMeta>(m, "PageMeta", "Per-page key bounds (Quest)")
      .def(py::init([](const std::string& dtype, std::size_t heads, std::size_t dim,
                       std::size_t page_size) {
             if (dtype != "float32" && dtype != "float16")
               throw py::value_error("dtype must be 'float32' or 'float16'");
             return attn::PageMeta(dtype == "float32" ? DType::F32 : DType::F16, heads, dim,
                                   page_size);
           }),
           py::arg("dtype"), py::arg("heads"), py::arg("dim"), py::arg("page_size"))
      .def(
          "append",
          [](attn::PageMeta& self, const py::array& keys, std::size_t threads) {
            const HeadsView k = heads_view(keys, "k");
            py::gil_scoped_release release;
            self.append(k, threads);
          },
          py::arg("keys").noconvert(), py::arg("threads") = 0)
      .def_property_readonly("keys", &attn::PageMeta::keys)
      .def_property_readonly("pages", &attn::PageMeta::pages)
      .def_property_readonly("heads", &attn::PageMeta::heads)
      .def_property_readonly("dim", &attn::PageMeta::dim)
      .def_property_readonly("page_size", &attn::PageMeta::page_size)
      .def_property_readonly("capacity", &attn::PageMeta::capacity)
      .def_property_readonly("dtype",
                             [](const attn::PageMeta& self) {
                               return self.dtype() == DType::F32 ? "float32" : "float16";
                             })
      .def(
          "bounds",
          [](const attn::PageMeta& self) {
            const std::vector<std::size_t> shape{self.heads(), self.pages(), self.dim()};
            py::array_t<float> lo(shape), hi(shape);
            float* l = lo.mutable_data();
            float* h = hi.mutable_data();
            {
              py::gil_scoped_release release;
              self.copy_bounds(l, h);
            }
            return py::make_tuple(lo, hi);
          },
          "(kmin, kmax) as float32 [heads, pages, dim] copies.");

  m.def(
      "quest_scores",
      [](const py::array& q, const attn::PageMeta& meta, std::size_t threads) {
        const HeadsView qv = heads_view(q, "q");
        py::array_t<float> out(std::vector<std::size_t>{qv.heads, qv.n, meta.pages()});
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          attn::quest_scores(qv, meta, o, threads);
        }
        return out;
      },
      py::arg("q").noconvert(), py::arg("meta"), py::arg("threads") = 0);

  m.def(
      "select_pages",
      [](const CArray<float>& scores, std::size_t nk, std::size_t page_size, std::size_t budget,
         std::size_t sink, std::size_t local, std::size_t threads) {
        if (scores.ndim() != 3) throw py::value_error("scores must be 3-D [Hq, Nq, pages]");
        const auto heads = static_cast<std::size_t>(scores.shape(0));
        const auto nq = static_cast<std::size_t>(scores.shape(1));
        const auto pages = static_cast<std::size_t>(scores.shape(2));
        const float* s = scores.data();
        attn::Csr c;
        {
          py::gil_scoped_release release;
          c = attn::select_pages(s, heads, nq, pages, nk, page_size, budget, sink, local, threads);
        }
        return csr(std::move(c));
      },
      py::arg("scores").noconvert(), py::arg("nk"), py::arg("page_size"), py::arg("budget"),
      py::arg("sink"), py::arg("local"), py::arg("threads") = 0);

  m.def(
      "block_topk",
      [](const py::array& q, const py::array& k, std::size_t block, std::size_t top_k,
         std::size_t threads) {
        const HeadsView qv = heads_view(q, "q"), kv = heads_view(k, "k");
        attn::Csr c;
        {
          py::gil_scoped_release release;
          c = attn::block_topk(qv, kv, block, top_k, threads);
        }
        return csr(std::move(c));
      },
      py::arg("q").noconvert(), py::arg("k").noconvert(), py::arg("block"), py::arg("top_k"),
      py::arg("threads") = 0);

  m.def(
      "vertical_slash",
      [](const py::array& q, const py::array& k, std::size_t last_q, std::size_t n_vertical,
         std::size_t n_slash, std::size_t sink, std::size_t local, float scale, bool with_sums,
         std::size_t threads) {
        const HeadsView qv = heads_view(q, "q"), kv = heads_view(k, "k");
        const std::size_t nv = std::min(n_vertical, kv.n), ns = std::min(n_slash, kv.n);
        py::array_t<int32_t> v(std::vector<std::size_t>{qv.heads, nv});
        py::array_t<int32_t> s(std::vector<std::size_t>{qv.heads, ns});
        py::array_t<float> sv, ss;
        if (with_sums) {
          sv = py::array_t<float>(std::vector<std::size_t>{qv.heads, kv.n});
          ss = py::array_t<float>(std::vector<std::size_t>{qv.heads, kv.n});
        }
        int32_t* vp = v.mutable_data();
        int32_t* sp = s.mutable_data();
        float* svp = with_sums ? sv.mutable_data() : nullptr;
        float* ssp = with_sums ? ss.mutable_data() : nullptr;
        {
          py::gil_scoped_release release;
          attn::VerticalSlashOptions opt{last_q, n_vertical, n_slash, sink, local, scale};
          attn::vertical_slash(qv, kv, opt, vp, sp, svp, ssp, threads);
        }
        if (with_sums) return py::tuple(py::make_tuple(v, s, sv, ss));
        return py::tuple(py::make_tuple(v, s));
      },
      py::arg("q").noconvert(), py::arg("k").noconvert(), py::arg("last_q"), py::arg("n_vertical"),
      py::arg("n_slash"), py::arg("sink"), py::arg("local"), py::arg("scale") = 0.0f,
      py::arg("with_sums") = false, py::arg("threads") = 0);

  m.def(
      "streaming",
      [](std::size_t nq, std::size_t nk, std::size_t sink, std::size_t window, std::size_t heads,
         std::size_t threads) {
        attn::Csr c;
        {
          py::gil_scoped_release release;
          c = attn::streaming(nq, nk, sink, window, heads, threads);
        }
        return csr(std::move(c));
      },
      py::arg("nq"), py::arg("nk"), py::arg("sink"), py::arg("window"), py::arg("heads") = 1,
      py::arg("threads") = 0);

  m.def(
      "hash_codes",
      [](const py::array& x, const CArray<float>& planes, std::size_t threads) {
        if (x.ndim() != 2) throw py::value_error("x must be 2-D [rows, D]");
        require_c_contiguous(x, "x");
        if (planes.ndim() != 2 || planes.shape(0) != x.shape(1))
          throw py::value_error("planes must be 2-D [D, bits] with D = x.shape[-1]");
        const HeadsView xv{x.data(), dtype_of(x, "x"), 1, static_cast<std::size_t>(x.shape(0)),
                           static_cast<std::size_t>(x.shape(1))};
        const auto bits = static_cast<std::size_t>(planes.shape(1));
        if (bits % 32 != 0 || bits == 0)
          throw py::value_error("planes must have a positive multiple of 32 columns (bits)");
        py::array_t<uint32_t> out(std::vector<std::size_t>{xv.n, bits / 32});
        uint32_t* o = out.mutable_data();
        const float* p = planes.data();
        {
          py::gil_scoped_release release;
          attn::hash_codes(xv, p, bits, o, threads);
        }
        return out;
      },
      py::arg("x").noconvert(), py::arg("planes").noconvert(), py::arg("threads") = 0);

  m.def(
      "hamming_topk",
      [](const CArray<uint32_t>& qc, const CArray<uint32_t>& kc, std::size_t top_k,
         std::size_t threads) {
        if (qc.ndim() != 3 || kc.ndim() != 3 || qc.shape(2) != kc.shape(2))
          throw py::value_error(
              "codes must be 3-D [heads, n, words] with the same number of words");
        const uint32_t* q = qc.data();
        const uint32_t* k = kc.data();
        const auto hq = static_cast<std::size_t>(qc.shape(0));
        const auto nq = static_cast<std::size_t>(qc.shape(1));
        const auto hkv = static_cast<std::size_t>(kc.shape(0));
        const auto nk = static_cast<std::size_t>(kc.shape(1));
        const auto words = static_cast<std::size_t>(kc.shape(2));
        attn::Csr c;
        {
          py::gil_scoped_release release;
          c = attn::hamming_topk(q, hq, nq, k, hkv, nk, words, top_k, threads);
        }
        return csr(std::move(c));
      },
      py::arg("q_codes").noconvert(), py::arg("k_codes").noconvert(), py::arg("top_k"),
      py::arg("threads") = 0);

  m.def(
      "coverage",
      [](const py::array& q, const py::array& k, const CArray<int32_t>& indptr,
         const CArray<int32_t>& indices, std::size_t heads, std::size_t rows_per_head,
         std::size_t query_block, std::size_t unit_size, float scale, std::size_t threads) {
        const HeadsView qv = heads_view(q, "q"), kv = heads_view(k, "k");
        if (indptr.ndim() != 1 ||
            static_cast<std::size_t>(indptr.shape(0)) != heads * rows_per_head + 1)
          throw py::value_error("indptr must be 1-D with heads * rows + 1 entries");
        const int32_t* ip = indptr.data();
        const auto nidx = static_cast<int64_t>(indices.size());
        for (py::ssize_t r = 0; r + 1 < indptr.shape(0); ++r)
          if (ip[r] < 0 || ip[r] > ip[r + 1] || ip[r + 1] > nidx)
            throw py::value_error("indptr must be non-decreasing within [0, len(indices)]");
        attn::SelectionView sel{ip, indices.data(), heads, rows_per_head, query_block, unit_size};
        py::array_t<float> out(std::vector<std::size_t>{qv.heads, qv.n});
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          attn::coverage(qv, kv, sel, scale, o, threads);
        }
        return out;
      },
      py::arg("q").noconvert(), py::arg("k").noconvert(), py::arg("indptr").noconvert(),
      py::arg("indices").noconvert(), py::arg("heads"), py::arg("rows_per_head"),
      py::arg("query_block"), py::arg("unit_size"), py::arg("scale") = 0.0f,
      py::arg("threads") = 0);

  m.def(
      "oracle_topk",
      [](const py::array& q, const py::array& k, std::size_t budget, std::size_t page_size,
         float scale, std::size_t threads) {
        const HeadsView qv = heads_view(q, "q"), kv = heads_view(k, "k");
        attn::Csr c;
        {
          py::gil_scoped_release release;
          c = attn::oracle_topk(qv, kv, budget, page_size, scale, threads);
        }
        return csr(std::move(c));
      },
      py::arg("q").noconvert(), py::arg("k").noconvert(), py::arg("budget"),
      py::arg("page_size") = 1, py::arg("scale") = 0.0f, py::arg("threads") = 0);
}

}  // namespace ctxengine::bindings
