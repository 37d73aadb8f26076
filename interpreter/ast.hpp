// The abstract syntax tree of .cost files, as the grammar builds it.
//
// Owns: the plain data types for declarations, statements and expressions, each with the
// Span it came from. Names are still strings here; the checker resolves them once into a
// Program (program.hpp) that the evaluator runs without any string lookups.
// Does not own: parsing (grammar/) or meaning (checker).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "interpreter/number.hpp"
#include "interpreter/source.hpp"

namespace costi::interp::ast {

enum class Op {
    // unary
    neg,
    pos,
    not_,
    // binary
    add,
    sub,
    mul,
    div,
    floor_div,
    mod,
    pow,
    eq,
    ne,
    lt,
    le,
    gt,
    ge,
    and_,
    or_,
    default_,
};

enum class ExprKind {
    number,    // literal: number
    string,    // literal: text
    name,      // a parameter, let or runtime variable: text
    config,    // config.KEY: text = "KEY" (may be dotted)
    hardware,  // hw.PROPERTY: text = "PROPERTY"
    unary,     // op args[0]
    binary,    // args[0] op args[1]
    function,  // text(args...): one of function_names
    cond,      // if args[0] then args[1] else args[2]
    call,      // a kernel call used as a value (REPL): call
};

// The built-in functions, `name(args…)` in an expression: the one list the parser, checker,
// evaluator, sweep columns and completion read (interp::Fn follows this order).
inline constexpr std::array<std::string_view, 6> function_names = {"min", "max", "floor", "ceil", "abs", "one_of"};

// The index of a built-in function in function_names, or -1.
inline int function_index(std::string_view word) {
    for (std::size_t i = 0; i < function_names.size(); ++i) {
        if (function_names[i] == word) return static_cast<int>(i);
    }
    return -1;
}

// What is wrong with calling built-in function `index` with `count` arguments ("" if nothing):
// floor, ceil and abs take one; one_of a value and at least one to compare it with.
inline std::string function_arity_problem(int index, std::size_t count) {
    std::string_view name = function_names.at(static_cast<std::size_t>(index));
    if ((name == "floor" || name == "ceil" || name == "abs") && count != 1)
        return std::string(name) + "() takes exactly one argument, got " + std::to_string(count);
    if (name == "one_of" && count < 2) return "one_of() takes a value and at least one value to compare it with";
    return "";
}

struct Call;

// Expressions nest at most this deep (a chain `a + b + …` of this many terms, or this many
// levels of operators): checking and evaluation recurse along the nesting, and the limit
// keeps that far from the stack's end. Real formulas nest under 20.
inline constexpr std::uint32_t max_expr_height = 1000;

struct Expr {
    ExprKind kind = ExprKind::number;
    std::uint32_t height = 1;  // levels of nesting: 1 for a literal or a name
    Span span;
    Op op = Op::add;
    Number number;
    std::string text;
    std::vector<std::unique_ptr<Expr>> args;
    std::shared_ptr<Call> call;
};
using ExprPtr = std::unique_ptr<Expr>;

// `name = expr` in an argument list, a `with (...)`, a config block or a model body.
struct Binding {
    std::string name;
    Span name_span;
    ExprPtr value;
};

// `$Name(k = v, ...)`.
struct Call {
    std::string kernel;
    Span name_span;
    Span span;  // the whole call
    std::vector<Binding> args;
};

struct Param {
    std::string name;
    Span span;
    ExprPtr default_value;  // null when required
};

enum class StmtKind { let, assign, child, source, doc, require };

struct Stmt {
    StmtKind kind = StmtKind::let;
    Span span;
    std::string name;  // let name, metric name, or child label
    Span name_span;
    ExprPtr value;              // let / assign
    std::string text;           // source / doc / require message
    ExprPtr count;              // child: `repeat count`, null for 1
    Call call;                  // child
    std::vector<Binding> with;  // child: runtime rebindings
};

struct Kernel {
    std::string name;
    Span name_span;
    Span span;
    std::vector<Param> params;
    std::vector<Stmt> body;
    Span decl_span;  // the whole declaration, `kernel` to `}` (the formatter orders by it)
    // A kernel of a library file read lazily (grammar::parse_module's `lazy_bodies`): the text
    // of its parameters and body, `(` or `{` to the last `}`, not parsed yet; `params` and
    // `body` stay empty until grammar::parse_body reads them. The checker leaves out a kernel
    // whose body is unread (interpreter/needed.hpp).
    std::optional<Span> unread_body;
};

struct Metric {
    std::string name;
    Span span;
    std::string description;
    std::string unit;   // for display: "B" for bytes, empty for plain counts
    std::string style;  // for display: "si" (K M G T, the default), "count" (K M B T) or "time" (ms µs)
    bool combine_max = false;  // `combine max`: a call's value is the largest of its children's
    Span decl_span;  // the whole declaration
};

// `property mem_bw "memory bandwidth" unit "B/s"`: a value a hardware description may give.
struct Property {
    std::string name;
    Span span;
    std::string description;
    std::string unit;
    Span decl_span;  // the whole declaration
};

// One `PROPERTY = value "note"` line of a hardware description.
struct HardwareEntry {
    std::string name;
    Span name_span;
    ExprPtr value;
    std::string note;  // where the value comes from
};

// `hardware NAME { doc "…" source "…" entries… }`.
struct Hardware {
    std::string name;
    Span name_span;
    std::string doc;
    std::vector<std::string> sources;
    std::vector<HardwareEntry> entries;
    Span decl_span;          // the whole declaration
    std::vector<Span> body;  // each doc, source and entry, in source order (the formatter)
};

// One bound of a runtime variable's domain: `>= 1`, `> 0`, `<= 1`, `< 2`.
struct Bound {
    Op op = Op::ge;  // ge, gt, le or lt
    ExprPtr value;
};

struct Runtime {
    std::string name;
    Span span;
    ExprPtr value;
    std::string type;  // "int", "rational", or empty when no domain is declared
    Span type_span;
    std::vector<Bound> bounds;
    std::string doc;
    Span decl_span;  // the whole declaration
};

struct Alias {
    std::string name;
    Span name_span;
    std::string target;
    Span target_span;
    Span decl_span;  // the whole declaration (aliases; unused in engine entries)
};

// `engine NAME "doc" { FROM = TO … }`: entries are (FROM, TO) kernel names, as aliases are.
struct Engine {
    std::string name;
    Span name_span;
    std::string doc;
    std::vector<Alias> entries;  // name: the model's entry kernel; target: what the engine runs
    Span decl_span;  // the whole declaration
};

struct ConfigFile {
    std::string path;
    Span span;
};

struct Model {
    std::string name;
    Span name_span;
    Call entry;
    std::vector<ConfigFile> config_files;
    std::vector<Binding> config;    // dotted keys
    std::vector<Binding> defaults;  // runtime variables
    std::string doc;
    std::string source;
    Span decl_span;          // the whole declaration
    std::vector<Span> body;  // each config block, config from, doc, source and default, in source order
};

struct Import {
    std::string path;
    Span span;
    Span decl_span;  // the whole declaration
};

// One parsed file, declarations in source order per kind.
struct Module {
    const SourceFile* file = nullptr;
    std::vector<Import> imports;
    std::vector<Metric> metrics;
    std::vector<Runtime> runtimes;
    std::vector<Kernel> kernels;
    std::vector<Alias> aliases;
    std::vector<Model> models;
    std::vector<Property> properties;
    std::vector<Hardware> hardware;
    std::vector<Kernel> every_leaf;  // `every leaf (…) { … }` blocks (name "every leaf")
    std::vector<Engine> engines;
};

}  // namespace costi::interp::ast
