#include "bindings/errors.hpp"

#include "common/error.hpp"

namespace py = pybind11;

namespace ctxengine::bindings {
namespace {

const char* python_class_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument:
      return "InvalidInputError";
    case ErrorKind::NotFound:
      return "NotFoundError";
    case ErrorKind::Format:
      return "FormatError";
    case ErrorKind::Unsupported:
      return "UnsupportedError";
    case ErrorKind::Limit:
      return "BudgetError";
    case ErrorKind::Io:
      return "StorageError";
    case ErrorKind::Internal:
      return "InternalError";
  }
  return "InternalError";
}

}  // namespace

void register_error_translator() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      // ctxengine.errors is pure Python and imports nothing native, so this cannot recurse.
      py::object cls = py::module_::import("ctxengine.errors").attr(python_class_name(e.kind()));
      PyErr_SetString(cls.ptr(), e.what());
    }
  });
}

}  // namespace ctxengine::bindings
