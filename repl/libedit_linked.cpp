// libedit linked into the executable (see libedit.hpp): the static costi executable
// (COSTI_STATIC_RUNTIME) has no dynamic loader to load libedit.so.2 with, and links
// Debian's libedit.a with the libraries it needs instead. A source of the executable
// itself, so the loading libedit() of costi_libedit_loaded is never linked beside it.
#include "repl/libedit.hpp"

namespace costi::repl {

const Libedit* libedit() {
#define COSTI_LIBEDIT_LINKED(name) &::name,
    static const Libedit linked{COSTI_LIBEDIT_FUNCTIONS(COSTI_LIBEDIT_LINKED)};
#undef COSTI_LIBEDIT_LINKED
    return &linked;
}

}  // namespace costi::repl
