// ctxengine._cuda: the optional GPU module. It takes raw device pointers (as integers) that the
// Python layer reads from __cuda_array_interface__, so it needs neither CuPy nor PyTorch.
#include <pybind11/pybind11.h>

#include <cstdint>

#include "bindings/errors.hpp"
#include "cuda/topk_ip.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
void bind_cuda_attn(py::module_& m);  // csrc/bindings/cuda_attn.cpp
}

PYBIND11_MODULE(_cuda, m) {
  namespace cuda = ctxengine::cuda;
  m.doc() = "ctxengine CUDA kernels";
  ctxengine::bindings::register_error_translator();
  m.attr("max_k") = cuda::kMaxK;
  m.def("device_count", &cuda::device_count, "Usable CUDA devices (0 without a driver or GPU).");
  m.def("device_name", &cuda::device_name, py::arg("device") = 0);
  m.def(
      "inner_product_topk",
      [](std::uintptr_t queries, std::size_t nq, std::uintptr_t base, std::size_t n,
         std::size_t dim, std::size_t k, std::uintptr_t out_scores, std::uintptr_t out_ids,
         std::uintptr_t stream) {
        cuda::inner_product_topk(reinterpret_cast<const float*>(queries), nq,
                                 reinterpret_cast<const float*>(base), n, dim, k,
                                 reinterpret_cast<float*>(out_scores),
                                 reinterpret_cast<int64_t*>(out_ids), stream);
      },
      py::arg("queries"), py::arg("nq"), py::arg("base"), py::arg("n"), py::arg("dim"),
      py::arg("k"), py::arg("out_scores"), py::arg("out_ids"), py::arg("stream") = 0,
      py::call_guard<py::gil_scoped_release>(),
      "GPU exact inner-product top-k over device pointers (float32 row-major; ids int64).");
  ctxengine::bindings::bind_cuda_attn(m);
}
