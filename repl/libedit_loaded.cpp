// libedit from its shared library, loaded the first time a terminal session needs it (see
// libedit.hpp): every other command starts without loading it and the three libraries it
// needs. The library costi_libedit_loaded holds this file; a static costi executable
// defines libedit() itself (libedit_linked.cpp), so this member is never linked into it.
#include <dlfcn.h>

#include <type_traits>

#include "repl/libedit.hpp"

namespace costi::repl {

const Libedit* libedit() {
    static const Libedit* loaded = []() -> const Libedit* {
        void* lib = dlopen(COSTI_LIBEDIT_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) return nullptr;
        static Libedit l;
        bool all = true;
        auto load = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
            all = all && fn != nullptr;
        };
#define COSTI_LIBEDIT_LOAD(name) load(l.name, #name);
        COSTI_LIBEDIT_FUNCTIONS(COSTI_LIBEDIT_LOAD)
#undef COSTI_LIBEDIT_LOAD
        return all ? &l : nullptr;
    }();
    return loaded;
}

}  // namespace costi::repl
