// costi: the executable's entry point.
#include <exception>
#include <iostream>
#include <new>

#include "repl/cli.hpp"
#include "repl/human.hpp"

// No exception leaves main: anything the commands did not turn into a diagnostic is a
// bug, reported as one with exit status 1 rather than an abort.
int main(int argc, char** argv) {
    try {
        return costi::cli::main(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::bad_alloc&) {
        std::cerr << "costi: error: out of memory\n";
    } catch (const std::exception& e) {
        std::cerr << "costi: internal error: " << costi::report::valid_utf8(e.what()) << "\n";
    } catch (...) {
        std::cerr << "costi: internal error: unknown exception\n";
    }
    return 1;
}
