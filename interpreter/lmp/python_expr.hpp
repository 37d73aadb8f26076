// The predecessor's formula strings: a small Python expression language, parsed and
// translated into the cost language with Python's meaning kept exactly.
//
// Owns: tokenizing and parsing one formula string (`2 * {batch_size} * seq_len`,
// `x if c else y`, `${torch.nn.Linear}(M=…, K)`, `math.ceil(a / b)`, …) into a small tree,
// and printing a tree as a cost-language expression with the same exact value. Does not own
// which names a formula may use (formats.cpp decides, through the resolver it passes) nor
// what a `${Class}(…)` reference costs (writer.cpp turns references into kernel calls).
//
// Python semantics, exactly: `/` is exact division (never a float), `//` floors toward −∞,
// `%` takes the sign of the divisor, `**` is exact for an integer exponent (anything else is
// refused when evaluated), `and`/`or` return one of their operands, `a < b < c` is
// `a < b and b < c`, `int()` truncates toward 0, `round()` rounds half to even, True/False
// are 1/0. Number literals in every Python form (`1_000`, `0x1F`, `0o17`, `0b101`, `.5`,
// `5.`, `1e-3`) are read as the exact number they spell: `0.1` is 1/10, not the float.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace costi::lmp {

// A formula, or a value in a JSON file, that cannot be imported. `column` (1-based, in bytes
// of the formula string) is 0 when the problem is not inside a formula.
struct ImportError : std::runtime_error {
    ImportError(std::string file_, std::string json_path_, std::size_t column_, std::string message_,
                std::string formula_ = "", std::string hint_ = "")
        : std::runtime_error(message_),
          file(std::move(file_)),
          json_path(std::move(json_path_)),
          column(column_),
          message(std::move(message_)),
          formula(std::move(formula_)),
          hint(std::move(hint_)) {}
    std::string file, json_path;
    std::size_t column;
    std::string message, formula, hint;
};

// Where a formula comes from, for its errors.
struct Origin {
    std::string file;
    std::string json_path;
    std::string text;
};

enum class Kind {
    number,   // text: a cost-language literal ("1/10" is printed in parentheses)
    name,     // text: the variable (`seq_len`, `{seq_len}`)
    config,   // text: the key after `config.` (dotted)
    ref,      // text: the qualified class name; kids: arguments; keywords: their names ("" positional)
    unary,    // text: "-" or "+"
    binary,   // text: "+", "-", "*", "/", "//", "%", "**"
    compare,  // kids: operands; ops: the n-1 operators of a chain
    boolean,  // text: "and" or "or"
    negation, // `not a`
    cond,     // kids: value, condition, alternative (Python's order: a if c else b)
    func,     // text: "min", "max", "abs", "ceil", "floor", "int", "round"
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
struct Node {
    Kind kind = Kind::number;
    std::string text;
    std::vector<NodePtr> kids;
    std::vector<std::string> ops;
    std::vector<std::string> keywords;
    std::size_t column = 1;  // 1-based, where the construct starts in the formula
    int depth = 1;           // levels of the tree below and including this node
};

// The tree of a formula is at most this deep (a chain `a + b + …` adds one level per
// operator): translating and freeing it recurse along it. Real formulas are under 20 deep.
inline constexpr int max_formula_depth = 400;

// Nested constructs (parentheses, prefix operators, `**`, conditionals, calls) are parsed
// by recursion, one level per nesting; deeper formulas are refused so that no string can
// exhaust the stack. Real formulas nest under 10.
inline constexpr int max_formula_nesting = 64;

// A formula string longer than this is refused (the longest real one is under 500 bytes).
inline constexpr std::size_t max_formula_length = 65536;

// Parses one formula. Throws ImportError naming origin's file, JSON path and the column.
NodePtr parse_formula(const Origin& origin);

// True when the tree contains a `${Class}(…)` reference.
bool has_ref(const Node& n);

// How a translated formula names things: the cost-language text for a variable (the
// resolver throws ImportError for a name nothing binds) and the lets that `int()` and
// `round()` hoist so that their argument is evaluated once.
struct Translation {
    std::function<std::string(const std::string& name, std::size_t column)> resolve;
    std::vector<std::pair<std::string, std::string>>* lets = nullptr;  // (name, expression)
    std::string let_prefix = "_t";
    int* let_counter = nullptr;
};

// The cost-language expression with the value of `n` (which must hold no reference).
std::string translate(const Node& n, const Origin& origin, Translation& tr);

// The same, as an operand that binds at least as tightly as `level` (0 = a whole
// expression, 6 = an operand of `+`, 7 = of `*`, 10 = a primary).
std::string translate_at(const Node& n, int level, const Origin& origin, Translation& tr);

// The precedence level of the cost-language text translate() gives for `n`.
int level_of(const Node& n);

}  // namespace costi::lmp
