// The error model of the core: one exception type with a kind that the bindings translate, in
// one place (csrc/bindings/errors.cpp), into ctxengine.Error subclasses or built-in exceptions.
// CTX_CHECK guards invariants and stays on in release builds (as faiss's FAISS_THROW_IF_NOT).
#pragma once

#include <stdexcept>
#include <string>

namespace ctxengine {

enum class ErrorKind {
  InvalidArgument,  // the caller passed something unusable -> ValueError
  NotFound,         // a file or name does not exist -> FileNotFoundError / KeyError-like
  Format,           // a file's content is malformed or corrupt -> ctxengine.FormatError
  Unsupported,      // a valid input this build cannot handle -> ctxengine.UnsupportedError
  Limit,            // a budget or limit cannot be met -> ctxengine.BudgetError
  Io,               // the OS refused a read or write -> OSError
  Internal,         // a broken invariant: a bug in ctxengine -> ctxengine.InternalError
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] void throw_error(ErrorKind kind, const std::string& message);
[[noreturn]] void throw_internal(const char* file, int line, const char* condition,
                                 const std::string& message);

}  // namespace ctxengine

// Invariant check: a failure is a bug, reported with file and line.
#define CTX_CHECK(cond, msg)                                                    \
  do {                                                                          \
    if (!(cond)) ::ctxengine::throw_internal(__FILE__, __LINE__, #cond, (msg)); \
  } while (0)

// Argument check: a failure is the caller's mistake, reported as a ValueError.
#define CTX_REQUIRE(cond, msg)                                                             \
  do {                                                                                     \
    if (!(cond)) ::ctxengine::throw_error(::ctxengine::ErrorKind::InvalidArgument, (msg)); \
  } while (0)
