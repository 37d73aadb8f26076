// costi: the executable's entry point.
#include <exception>
#include <iostream>
#include <new>

#include "repl/cli.hpp"

int main(int argc, char** argv) {
    try {
        return costi::cli::main(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::bad_alloc&) {
        std::cerr << "costi: error: out of memory\n";
        return 1;
    }
}
