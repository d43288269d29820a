// Bindings of the sparse-attention CUDA kernels (csrc/cuda/attn.hpp) in ctxengine._cuda: raw
// device pointers as integers, which the Python layer reads from __cuda_array_interface__ and
// checks (shapes, dtypes, contiguity) before the call. Conversion only; the GIL is released.
#include <pybind11/pybind11.h>

#include <cstdint>

#include "cuda/attn.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {

void bind_cuda_attn(py::module_& m) {
  namespace cuda = ctxengine::cuda;
  using Ptr = std::uintptr_t;
  using Size = std::size_t;
  const auto release = py::call_guard<py::gil_scoped_release>();
  m.def(
      "attn_page_meta",
      [](Ptr keys, bool f16, Size heads, Size n_new, Size dim, Size page_size, Size old_keys,
         Ptr kmin, Ptr kmax, Size capacity, Ptr stream) {
        cuda::attn_page_meta(reinterpret_cast<const void*>(keys), f16, heads, n_new, dim, page_size,
                             old_keys, reinterpret_cast<void*>(kmin), reinterpret_cast<void*>(kmax),
                             capacity, stream);
      },
      py::arg("keys"), py::arg("f16"), py::arg("heads"), py::arg("n_new"), py::arg("dim"),
      py::arg("page_size"), py::arg("old_keys"), py::arg("kmin"), py::arg("kmax"),
      py::arg("capacity"), py::arg("stream") = 0, release);
  m.def(
      "attn_quest_scores",
      [](Ptr q, bool q_f16, Size hq, Size nq, Size dim, Ptr kmin, Ptr kmax, bool meta_f16, Size hkv,
         Size pages, Size capacity, Ptr out, Ptr stream) {
        cuda::attn_quest_scores(reinterpret_cast<const void*>(q), q_f16, hq, nq, dim,
                                reinterpret_cast<const void*>(kmin),
                                reinterpret_cast<const void*>(kmax), meta_f16, hkv, pages, capacity,
                                reinterpret_cast<float*>(out), stream);
      },
      py::arg("q"), py::arg("q_f16"), py::arg("hq"), py::arg("nq"), py::arg("dim"), py::arg("kmin"),
      py::arg("kmax"), py::arg("meta_f16"), py::arg("hkv"), py::arg("pages"), py::arg("capacity"),
      py::arg("out"), py::arg("stream") = 0, release);
  m.def(
      "attn_select_pages",
      [](Ptr scores, Size rows, Size nq, Size pages, Size nk, Size page_size, Size budget,
         Size sink, Size local, Ptr out, Ptr counts, Ptr stream) {
        cuda::attn_select_pages(reinterpret_cast<const float*>(scores), rows, nq, pages, nk,
                                page_size, budget, sink, local, reinterpret_cast<int32_t*>(out),
                                reinterpret_cast<int32_t*>(counts), stream);
      },
      py::arg("scores"), py::arg("rows"), py::arg("nq"), py::arg("pages"), py::arg("nk"),
      py::arg("page_size"), py::arg("budget"), py::arg("sink"), py::arg("local"), py::arg("out"),
      py::arg("counts"), py::arg("stream") = 0, release);
  m.def(
      "attn_hash_codes",
      [](Ptr x, bool f16, Size n, Size dim, Ptr planes, Size bits, Ptr out, Ptr stream) {
        cuda::attn_hash_codes(reinterpret_cast<const void*>(x), f16, n, dim,
                              reinterpret_cast<const float*>(planes), bits,
                              reinterpret_cast<uint32_t*>(out), stream);
      },
      py::arg("x"), py::arg("f16"), py::arg("n"), py::arg("dim"), py::arg("planes"),
      py::arg("bits"), py::arg("out"), py::arg("stream") = 0, release);
  m.def(
      "attn_hamming_topk",
      [](Ptr q_codes, Size hq, Size nq, Ptr k_codes, Size hkv, Size nk, Size words, Size top_k,
         Ptr out, Ptr counts, Ptr stream) {
        cuda::attn_hamming_topk(reinterpret_cast<const uint32_t*>(q_codes), hq, nq,
                                reinterpret_cast<const uint32_t*>(k_codes), hkv, nk, words, top_k,
                                reinterpret_cast<int32_t*>(out), reinterpret_cast<int32_t*>(counts),
                                stream);
      },
      py::arg("q_codes"), py::arg("hq"), py::arg("nq"), py::arg("k_codes"), py::arg("hkv"),
      py::arg("nk"), py::arg("words"), py::arg("top_k"), py::arg("out"), py::arg("counts"),
      py::arg("stream") = 0, release);
  m.def(
      "attn_vertical_slash",
      [](Ptr q, bool q_f16, Ptr k, bool k_f16, Size hq, Size hkv, Size nq, Size nk, Size dim,
         Size last_q, float scale, Size n_vertical, Size n_slash, Size sink, Size local,
         Ptr vertical, Ptr slash, Ptr sums_v, Ptr sums_s, Ptr stream) {
        cuda::attn_vertical_slash(
            reinterpret_cast<const void*>(q), q_f16, reinterpret_cast<const void*>(k), k_f16, hq,
            hkv, nq, nk, dim, last_q, scale, n_vertical, n_slash, sink, local,
            reinterpret_cast<int32_t*>(vertical), reinterpret_cast<int32_t*>(slash),
            reinterpret_cast<float*>(sums_v), reinterpret_cast<float*>(sums_s), stream);
      },
      py::arg("q"), py::arg("q_f16"), py::arg("k"), py::arg("k_f16"), py::arg("hq"), py::arg("hkv"),
      py::arg("nq"), py::arg("nk"), py::arg("dim"), py::arg("last_q"), py::arg("scale"),
      py::arg("n_vertical"), py::arg("n_slash"), py::arg("sink"), py::arg("local"),
      py::arg("vertical"), py::arg("slash"), py::arg("sums_v"), py::arg("sums_s"),
      py::arg("stream") = 0, release);
}

}  // namespace ctxengine::bindings
