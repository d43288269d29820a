// One bind_* function per core area; module.cpp calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace ctxengine::bindings {

void bind_text(pybind11::module_& m);
void bind_score(pybind11::module_& m);
void bind_pack(pybind11::module_& m);
void bind_testing(pybind11::module_& m);
void bind_index(pybind11::module_& m);
void bind_tokenizer(pybind11::module_& m);
void bind_tokenizer_json(pybind11::module_& m);
void bind_chunking(pybind11::module_& m);
void bind_attn(pybind11::module_& m);

}  // namespace ctxengine::bindings
