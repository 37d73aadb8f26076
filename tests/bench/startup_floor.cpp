// The floor of a short costi command (docs/performance.md, "Start-up"): a C++ program that
// does next to nothing with the libraries costi's start-up pays for — an exact GMP rational
// printed through iostreams. tests/bench/CMakeLists.txt links it twice: as the issue
// measured its floor ("a trivial C++ program with the same shared libraries": libstdc++,
// libgmpxx, libgmp and libedit, all shared) and as the costi executable links today (a
// static PIE). tests/bench/startup.sh times both beside costi, so that a start-up figure is
// read against the machine's own floor.
#include <gmpxx.h>

#include <iostream>

#ifdef COSTI_FLOOR_LIBEDIT
#include <histedit.h>
#endif

int main(int argc, char**) {
#ifdef COSTI_FLOOR_LIBEDIT
    // Referenced, never called: the dynamic loader maps and binds libedit as it did for costi.
    if (argc > 100) history_init();
#endif
    mpq_class x(argc, 3);
    std::cout << x << '\n';
    return 0;
}
