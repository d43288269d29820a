// Bindings of the scoring kernels (csrc/score): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/modules.hpp"
#include "score/topk.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {

void bind_score(py::module_& root) {
  py::module_ m = root.def_submodule("score", "Scoring kernels");
  m.def(
      "inner_product_topk",
      [](const py::array_t<float, py::array::c_style>& queries,
         const py::array_t<float, py::array::c_style>& base, std::size_t k, std::size_t threads) {
        if (queries.ndim() != 2 || base.ndim() != 2 || queries.shape(1) != base.shape(1))
          throw py::value_error("queries and base must be 2-D with the same number of columns");
        const auto nq = static_cast<std::size_t>(queries.shape(0));
        const auto n = static_cast<std::size_t>(base.shape(0));
        const auto dim = static_cast<std::size_t>(base.shape(1));
        py::array_t<float> scores({nq, k});
        py::array_t<int64_t> ids({nq, k});
        const float* q = queries.data();
        const float* b = base.data();
        float* s = scores.mutable_data();
        int64_t* i = ids.mutable_data();
        {
          py::gil_scoped_release release;
          inner_product_topk(q, nq, b, n, dim, k, s, i, threads);
        }
        return py::make_tuple(scores, ids);
      },
      py::arg("queries").noconvert(), py::arg("base").noconvert(), py::arg("k"),
      py::arg("threads") = 0,
      "Exact inner-product top-k (float32, C-contiguous). Returns (scores, ids), each nq x k.");
}

}  // namespace ctxengine::bindings
