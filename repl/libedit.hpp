// The libedit functions the REPL's line reader calls, as one table.
//
// Owns: the list of functions and the table type. Two files fill it; a program links one:
// libedit_loaded.cpp loads libedit.so.2 the first time a terminal session needs it (so that
// a program that never edits a line never loads it), libedit_linked.cpp points at libedit
// linked into a static executable. Does not own how lines are edited (line_reader.cpp).
#pragma once

#include <histedit.h>

namespace costi::repl {

#define COSTI_LIBEDIT_FUNCTIONS(X) \
    X(el_init) X(el_end) X(el_set) X(el_get) X(el_gets) X(el_line) X(el_insertstr) X(el_resize) X(el_source) \
    X(history_init) X(history_end) X(history)

struct Libedit {
#define COSTI_LIBEDIT_POINTER(name) decltype(&::name) name = nullptr;
    COSTI_LIBEDIT_FUNCTIONS(COSTI_LIBEDIT_POINTER)
#undef COSTI_LIBEDIT_POINTER
};

// libedit's functions, or null when libedit cannot be loaded (the REPL then reads plain lines).
const Libedit* libedit();

}  // namespace costi::repl
