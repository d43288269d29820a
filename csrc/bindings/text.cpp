// Bindings of the UTF-8 / Unicode layer (csrc/text): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string_view>

#include "bindings/modules.hpp"
#include "text/unicode.hpp"
#include "text/utf8.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

using CodePoints = py::array_t<uint32_t, py::array::c_style>;
using Offsets = py::array_t<int64_t, py::array::c_style>;

template <typename Out, typename Fn>
py::array_t<Out> map_code_points(const CodePoints& cps, Fn fn) {
  py::array_t<Out> out(cps.size());
  fn(cps.data(), static_cast<std::size_t>(cps.size()), out.mutable_data());
  return out;
}

}  // namespace

void bind_text(py::module_& root) {
  py::module_ m = root.def_submodule("text", "UTF-8 and Unicode tables of the core");
  m.def("unicode_version", &unicode_version, "Unicode version of the built-in tables.");
  m.def(
      "find_invalid_utf8",
      [](py::bytes data) -> long long {
        std::string_view view = data;
        std::size_t pos;
        {
          py::gil_scoped_release release;
          pos = find_invalid_utf8(view);
        }
        return pos == npos ? -1 : static_cast<long long>(pos);
      },
      py::arg("data"), "Byte offset of the first invalid UTF-8 sequence, or -1 when valid.");
  m.def(
      "general_categories",
      [](const CodePoints& cps) {
        return map_code_points<uint8_t>(cps, [](const uint32_t* in, std::size_t n, uint8_t* out) {
          general_categories(in, n, out);
        });
      },
      py::arg("code_points").noconvert(), "General category index of each code point.");
  m.def(
      "to_lower",
      [](const CodePoints& cps) {
        return map_code_points<uint32_t>(
            cps, [](const uint32_t* in, std::size_t n, uint32_t* out) { to_lower(in, n, out); });
      },
      py::arg("code_points").noconvert(), "Simple lowercase of each code point.");
  m.def(
      "white_space",
      [](const CodePoints& cps) {
        return map_code_points<bool>(
            cps, [](const uint32_t* in, std::size_t n, bool* out) { white_space(in, n, out); });
      },
      py::arg("code_points").noconvert(), "White_Space property of each code point.");
  m.def(
      "char_offsets",
      [](py::bytes data, const Offsets& byte_offsets) {
        std::string_view view = data;
        py::array_t<int64_t> out(byte_offsets.size());
        const int64_t* in = byte_offsets.data();
        int64_t* o = out.mutable_data();
        const auto count = static_cast<std::size_t>(byte_offsets.size());
        py::gil_scoped_release release;
        OffsetMap(view).chars_of_bytes(in, count, o);
        return out;
      },
      py::arg("data"), py::arg("byte_offsets").noconvert(),
      "Code point offsets of byte offsets into valid UTF-8 `data`.");
  m.def(
      "byte_offsets",
      [](py::bytes data, const Offsets& char_offsets) {
        std::string_view view = data;
        py::array_t<int64_t> out(char_offsets.size());
        const int64_t* in = char_offsets.data();
        int64_t* o = out.mutable_data();
        const auto count = static_cast<std::size_t>(char_offsets.size());
        py::gil_scoped_release release;
        OffsetMap(view).bytes_of_chars(in, count, o);
        return out;
      },
      py::arg("data"), py::arg("char_offsets").noconvert(),
      "Byte offsets of code point offsets into valid UTF-8 `data`.");
}

}  // namespace ctxengine::bindings
