// Bindings of the packing core (csrc/pack): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string_view>

#include "bindings/modules.hpp"
#include "pack/minhash.hpp"
#include "pack/select.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style>;

void require_length(const py::array& a, std::size_t n, const char* name) {
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n)
    throw py::value_error(std::string(name) + " must be 1-D with one entry per candidate");
}

}  // namespace

void bind_pack(py::module_& root) {
  py::module_ m = root.def_submodule("pack", "Packing: near-duplicate sketches and selection");
  m.attr("sketch_empty") = py::int_(kSketchEmpty);
  m.def(
      "minhash_sketches",
      [](py::bytes data, const Array<int64_t>& offsets, std::size_t k, std::size_t shingle,
         std::size_t threads) {
        if (offsets.ndim() != 1 || offsets.shape(0) < 1)
          throw py::value_error("offsets must be 1-D with n + 1 entries");
        std::string_view view = data;
        const auto n = static_cast<std::size_t>(offsets.shape(0) - 1);
        Array<uint32_t> out({n, k});
        const int64_t* off = offsets.data();
        uint32_t* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          minhash_sketches(view, off, n, k, shingle, o, threads);
        }
        return out;
      },
      py::arg("data"), py::arg("offsets").noconvert(), py::arg("k"), py::arg("shingle"),
      py::arg("threads") = 0,
      "MinHash sketches (n x k uint64) of the UTF-8 texts data[offsets[i]:offsets[i+1]].");
  m.def(
      "sketch_jaccard",
      [](const Array<uint32_t>& a, const Array<uint32_t>& b) {
        if (a.ndim() != 1 || b.ndim() != 1 || a.shape(0) != b.shape(0) || a.shape(0) < 1)
          throw py::value_error("sketches must be 1-D and of the same length k >= 1");
        return sketch_jaccard(a.data(), b.data(), static_cast<std::size_t>(a.shape(0)));
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(),
      "Estimated Jaccard similarity of two sketches.");
  m.def(
      "select_greedy",
      [](const Array<double>& relevance, const Array<int64_t>& cost, const Array<int32_t>& group,
         const Array<int32_t>& anchor, const Array<uint32_t>& sketches, Array<int8_t>& status,
         Array<double>& max_sim, int64_t budget, double diversity, double duplicate_threshold,
         int64_t max_per_group, bool by_density) {
        const auto n = static_cast<std::size_t>(relevance.ndim() == 1 ? relevance.shape(0) : 0);
        require_length(relevance, n, "relevance");
        require_length(cost, n, "cost");
        require_length(group, n, "group");
        require_length(anchor, n, "anchor");
        require_length(status, n, "status");
        require_length(max_sim, n, "max_sim");
        if (sketches.ndim() != 2 || static_cast<std::size_t>(sketches.shape(0)) != n ||
            sketches.shape(1) < 1)
          throw py::value_error("sketches must be n x k with k >= 1");
        SelectInput in;
        in.n = n;
        in.relevance = relevance.data();
        in.cost = cost.data();
        in.group = group.data();
        in.anchor = anchor.data();
        in.sketches = sketches.data();
        in.k = static_cast<std::size_t>(sketches.shape(1));
        SelectParams params;
        params.budget = budget;
        params.diversity = diversity;
        params.duplicate_threshold = duplicate_threshold;
        params.max_per_group = max_per_group;
        params.by_density = by_density;
        auto* st = reinterpret_cast<SelectStatus*>(status.mutable_data());
        double* ms = max_sim.mutable_data();
        std::vector<int64_t> chosen;
        {
          py::gil_scoped_release release;
          chosen = select_greedy(in, params, st, ms);
        }
        Array<int64_t> out(chosen.size());
        std::copy(chosen.begin(), chosen.end(), out.mutable_data());
        return out;
      },
      py::arg("relevance").noconvert(), py::arg("cost").noconvert(), py::arg("group").noconvert(),
      py::arg("anchor").noconvert(), py::arg("sketches").noconvert(), py::arg("status").noconvert(),
      py::arg("max_sim").noconvert(), py::arg("budget"), py::arg("diversity"),
      py::arg("duplicate_threshold"), py::arg("max_per_group"), py::arg("by_density") = true,
      "Greedy selection under a token budget (csrc/pack/select.hpp); state updated in place.");
}

}  // namespace ctxengine::bindings
