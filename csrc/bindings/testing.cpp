// ctxengine._core._testing: probes of the core used only by the test suite.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/modules.hpp"
#include "common/selftest.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {

void bind_testing(py::module_& root) {
  py::module_ m = root.def_submodule("_testing", "Probes for the test suite");
  m.def("parallel_sum_of_indices", &selftest::parallel_sum_of_indices, py::arg("n"),
        py::arg("grain"), py::arg("threads"), py::call_guard<py::gil_scoped_release>());
  m.def("parallel_throw_at", &selftest::parallel_throw_at, py::arg("n"), py::arg("fail_at"),
        py::arg("threads"), py::call_guard<py::gil_scoped_release>());
  m.def("posting_block_round_trip", &selftest::posting_block_round_trip, py::arg("docs"),
        py::arg("values"), py::arg("prev"), py::arg("slack"));
}

}  // namespace ctxengine::bindings
