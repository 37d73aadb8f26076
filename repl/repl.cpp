// Placeholder until the REPL lands (issue 4).
#include "repl/repl.hpp"

#include <iostream>

namespace costi::repl {
int main(const std::vector<std::string>&) {
    std::cerr << "costi: error: the REPL is not built yet\n";
    return 1;
}
}  // namespace costi::repl
