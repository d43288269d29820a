// Out-of-line throw helpers keep the check macros small at every call site.
#include "common/error.hpp"

namespace ctxengine {

void throw_error(ErrorKind kind, const std::string& message) {
  throw Error(kind, message);
}

void throw_internal(const char* file, int line, const char* condition, const std::string& message) {
  throw Error(ErrorKind::Internal, std::string("internal error (please report it): ") + message +
                                       " [" + condition + " failed at " + file + ":" +
                                       std::to_string(line) + "]");
}

}  // namespace ctxengine
