// ctxengine._core: the native core. Each area binds itself in its own file.
#include <pybind11/pybind11.h>

#include "bindings/errors.hpp"
#include "bindings/modules.hpp"
#include "common/thread_pool.hpp"

#ifndef CTXENGINE_VERSION
#define CTXENGINE_VERSION "0+unknown"
#endif

PYBIND11_MODULE(_core, m) {
  namespace bindings = ctxengine::bindings;
  m.doc() = "ctxengine native core (C++17)";
  m.attr("__version__") = CTXENGINE_VERSION;
  bindings::register_error_translator();
  m.def("resolve_threads", &ctxengine::resolve_threads, pybind11::arg("requested") = 0,
        "Threads a call with `threads=requested` uses (0 = all cores or CTXENGINE_NUM_THREADS).");
  bindings::bind_text(m);
  bindings::bind_score(m);
  bindings::bind_pack(m);
  bindings::bind_testing(m);
  bindings::bind_index(m);
  bindings::bind_tokenizer(m);
  bindings::bind_tokenizer_json(m);
  bindings::bind_chunking(m);
  bindings::bind_attn(m);
}
