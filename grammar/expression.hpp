// The expression parser: precedence climbing by hand, straight into the AST.
//
// Owns: the syntax of expressions, kernel calls and binding lists, and their AST. The rest
// of the language (declarations, statements) is the PEGTL grammar of grammar.hpp, which
// calls in here through its `expr`, `sum`, `call` and `binding_list` rules. Expressions are
// most of a .cost file; a hand-written parser reads them several times faster than a rule
// per precedence level, builds no parse tree, and uses no recursion for a chain `a + b + …`
// however long. Does not own meaning (checker) or the messages' wording (errors.hpp).
//
// The grammar it implements (blanks and `#` comments may stand between any two tokens):
//
//   expr        = "if" expr "then" expr "else" expr | defaulted
//   defaulted   = disjunction { "??" disjunction }
//   disjunction = conjunction { "or" conjunction }
//   conjunction = negation { "and" negation }
//   negation    = "not" negation | comparison
//   comparison  = sum [ ("==" | "!=" | "<=" | ">=" | "<" | ">") sum ]
//   sum         = product { ("+" | "-") product }
//   product     = unary { ("//" | "*" | "/" | "%") unary }
//   unary       = ("-" | "+") unary | power
//   power       = primary [ "^" unary ]
//   primary     = number | string | "true" | "false" | "config." key | "hw." NAME
//               | ("min" | "max" | "floor" | "ceil" | "abs" | "one_of") "(" expr { sep expr } ")"
//               | call | "(" expr ")" | name
//   call        = "$" (qname | "{" qname "}") [ binding_list ]
//   binding_list = "(" [ name "=" expr { sep name "=" expr } [ sep ] ] ")"
//
// Once a construct has begun (an operator, "(", "$", "if", a quote) the rest must follow;
// a failure there is a syntax error at the place of the missing part, with the message of
// errors.hpp. Before that, a parse that does not match leaves the position unchanged.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "interpreter/ast.hpp"
#include "interpreter/source.hpp"

namespace costi::grammar {

// A syntax error at a byte offset: parse.cpp turns it into the E0001 diagnostic (as it
// does PEGTL's own errors, with the same placement rules for a missing ')').
struct SyntaxError {
    std::size_t offset;
    std::string message;
    std::string hint;
};

// Nested constructs (parentheses, prefix operators, the right side of `^`, `if`, calls and
// function arguments) recurse, one parse per level; beyond this many levels the input is
// refused (E0001 "expression nested too deeply"), far from the stack's end. Real formulas
// nest under 10. Chains `a + b + …` are loops and do not count.
inline constexpr int max_nesting = 256;

// Chains of up to this many operands keep the shape they are written in: ((a + b) + c).
// Longer ones (generated code) are regrouped into a balanced tree with the same exact value,
// so that their nesting grows with the logarithm of their length (ast.hpp).
inline constexpr std::size_t max_written_chain = 32;

// The position of the '"' that closes the string literal opened at `open`, past escaped
// characters; nothing when a line break or the end of the text comes first. Strings without
// escapes or line breaks (docs, sources, messages: most of them) are found with memchr.
std::optional<std::size_t> closing_quote(std::string_view text, std::size_t open);

class ExpressionParser {
public:
    explicit ExpressionParser(const interp::SourceFile& file) : file_(file), text_(file.text()) {}

    // Each parses at byte offset `pos`. On a match it returns the AST and moves `pos` past
    // it; when nothing there can start the construct it returns nothing and leaves `pos`
    // as it was. Throws SyntaxError (or CostiError for a number out of range).
    interp::ast::ExprPtr expr(std::size_t& pos);
    interp::ast::ExprPtr sum(std::size_t& pos);
    std::optional<interp::ast::Call> call(std::size_t& pos);
    std::optional<std::vector<interp::ast::Binding>> binding_list(std::size_t& pos);

    // A string literal "…" at `pos`, unescaped; nothing when `pos` holds no '"'.
    std::optional<std::string> string_lit(std::size_t& pos) const;

    // The offset after the blanks and comments at `pos`.
    std::size_t skip_blanks(std::size_t pos) const;

private:
    enum class Level { defaulted, disjunction, conjunction, comparison, sum, product };

    interp::ast::ExprPtr expr_at(std::size_t& pos);
    interp::ast::ExprPtr chain(Level level, std::size_t& pos);
    interp::ast::ExprPtr operand(Level level, std::size_t& pos);
    interp::ast::ExprPtr negation(std::size_t& pos);
    interp::ast::ExprPtr unary(std::size_t& pos);
    interp::ast::ExprPtr primary(std::size_t& pos);
    interp::ast::ExprPtr number(std::size_t& pos);
    std::optional<interp::ast::Op> op_at(Level level, std::size_t pos, std::size_t& len) const;
    // The binary operator after an operand that ends at `pos`: where it is (past blanks and
    // comments), its level and length. Each enclosing level asks in turn, so the answer for
    // the last position asked is kept rather than scanned again.
    struct NextOp {
        std::size_t at = 0;
        std::optional<Level> level;  // none: no binary operator follows
        interp::ast::Op op = interp::ast::Op::add;
        std::size_t len = 0;
    };
    const NextOp& next_op(std::size_t pos);
    interp::ast::ExprPtr combine(Level level, std::vector<interp::ast::ExprPtr>& terms, std::vector<interp::ast::Op>& ops);
    interp::ast::ExprPtr balanced(std::vector<interp::ast::ExprPtr>& terms, const std::vector<interp::ast::Op>& ops,
                                  std::size_t lo, std::size_t hi, bool flip);
    interp::ast::ExprPtr binary(interp::ast::Op op, interp::ast::ExprPtr a, interp::ast::ExprPtr b) const;

    bool keyword_at(std::size_t pos, std::string_view word) const;
    std::size_t identifier_end(std::size_t pos) const;
    std::size_t qname_end(std::size_t pos) const;
    bool reserved(std::string_view word) const;
    [[noreturn]] void fail(std::size_t pos, const char* message) const;
    interp::ast::ExprPtr make(interp::ast::ExprKind kind, std::size_t begin, std::size_t end) const;
    void finish(interp::ast::Expr& e) const;

    // Counts nested levels; refuses more than max_nesting.
    struct Nest {
        Nest(ExpressionParser& p, std::size_t pos);
        ~Nest() { --p_.depth_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;
        ExpressionParser& p_;
    };

    const interp::SourceFile& file_;
    std::string_view text_;
    int depth_ = 0;
    std::size_t next_op_pos_ = std::string_view::npos;  // the position next_op_ answers for
    NextOp next_op_;
};

}  // namespace costi::grammar
