// The one place where core errors become Python exceptions (as tokenizers' error.rs).
#pragma once

#include <pybind11/pybind11.h>

namespace ctxengine::bindings {

// Registers the translator from ctxengine::Error to the classes in ctxengine.errors.
void register_error_translator();

}  // namespace ctxengine::bindings
