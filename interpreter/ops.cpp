// Operator semantics on Values.
#include "interpreter/ops.hpp"

#include <string_view>

#include "interpreter/diagnostics.hpp"

namespace costi::interp {

const char* op_text(ast::Op op) {
    switch (op) {
        case ast::Op::neg:
            return "-";
        case ast::Op::pos:
            return "+";
        case ast::Op::not_:
            return "not";
        case ast::Op::add:
            return "+";
        case ast::Op::sub:
            return "-";
        case ast::Op::mul:
            return "*";
        case ast::Op::div:
            return "/";
        case ast::Op::floor_div:
            return "//";
        case ast::Op::mod:
            return "%";
        case ast::Op::pow:
            return "^";
        case ast::Op::eq:
            return "==";
        case ast::Op::ne:
            return "!=";
        case ast::Op::lt:
            return "<";
        case ast::Op::le:
            return "<=";
        case ast::Op::gt:
            return ">";
        case ast::Op::ge:
            return ">=";
        case ast::Op::and_:
            return "and";
        case ast::Op::or_:
            return "or";
        case ast::Op::default_:
            return "??";
    }
    return "?";
}

static bool need_number(const Value& v, std::string_view what, OpError& err) {
    if (v.is_number()) return true;
    err = {code::type_error, "'" + std::string(what) + "' needs a number, not the string " + v.show(),
           v.is_string() ? "strings can only be compared with == and !=" : ""};
    return false;
}

// Inline, and the operator's text only looked up for the message: every arithmetic
// operation of an evaluation passes here.
static inline bool need_number(const Value& v, ast::Op op, OpError& err) {
    return v.is_number() || need_number(v, op_text(op), err);
}

std::optional<bool> truth(const Value& v, OpError& err) {
    if (!need_number(v, "condition", err)) return std::nullopt;
    return !v.num.is_zero();
}

std::optional<Value> apply_unary(ast::Op op, const Value& a, OpError& err) {
    if (op == ast::Op::not_) {
        auto t = truth(a, err);
        if (!t) return std::nullopt;
        return Value::of(*t ? 0 : 1);
    }
    if (!need_number(a, op, err)) return std::nullopt;
    return Value::of(op == ast::Op::neg ? -a.num : a.num);
}

// Every result is checked against Number::max_bits. Operands are themselves results (or
// literals, which are smaller), so each operation works on bounded numbers.
static std::optional<Value> sized(Number n, ast::Op op, OpError& err) {
    if (n.bit_size() > Number::max_bits) {
        err = {code::too_large,
               std::string("the result of '") + op_text(op) + "' is too large to keep exactly (" +
                   std::to_string(n.bit_size()) + " bits)",
               "numbers are limited to " + std::to_string(Number::max_bits) + " bits; no real cost comes near"};
        return std::nullopt;
    }
    return Value::of(std::move(n));
}

static std::optional<Value> apply_arith(ast::Op op, const Value& a, const Value& b, OpError& err);

std::optional<Value> apply_binary(ast::Op op, const Value& a, const Value& b, OpError& err) {
    auto r = apply_arith(op, a, b, err);
    if (!r || !r->is_number() || r->num.is_small()) return r;
    return sized(std::move(r->num), op, err);
}

static std::optional<Value> apply_arith(ast::Op op, const Value& a, const Value& b, OpError& err) {
    if ((op == ast::Op::eq || op == ast::Op::ne) && (a.is_string() || b.is_string())) {
        if (!a.is_string() || !b.is_string()) {
            err = {code::type_error, "cannot compare " + a.show() + " with " + b.show(),
                   "a string equals only another string"};
            return std::nullopt;
        }
        bool same = a.str == b.str;
        return Value::of((op == ast::Op::eq) == same ? 1 : 0);
    }
    if (!need_number(a, op, err) || !need_number(b, op, err)) return std::nullopt;
    const Number& x = a.num;
    const Number& y = b.num;
    auto by_zero = [&]() -> std::optional<Value> {
        err = {code::division_by_zero, std::string("division by zero in '") + op_text(op) + "'", ""};
        return std::nullopt;
    };
    switch (op) {
        case ast::Op::add:
            return Value::of(x + y);
        case ast::Op::sub:
            return Value::of(x - y);
        case ast::Op::mul:
            return Value::of(x * y);
        case ast::Op::div: {
            auto q = Number::divide(x, y);
            return q ? std::optional<Value>(Value::of(std::move(*q))) : by_zero();
        }
        case ast::Op::floor_div: {
            auto q = Number::floor_divide(x, y);
            return q ? std::optional<Value>(Value::of(std::move(*q))) : by_zero();
        }
        case ast::Op::mod: {
            auto q = Number::modulo(x, y);
            return q ? std::optional<Value>(Value::of(std::move(*q))) : by_zero();
        }
        case ast::Op::pow: {
            Number out;
            switch (Number::power(x, y, out)) {
                case PowError::none:
                    return Value::of(std::move(out));
                case PowError::non_integer_exponent:
                    err = {code::bad_power, "the exponent of '^' must be an integer, got " + y.to_string(),
                           "roots are not exact rationals"};
                    return std::nullopt;
                case PowError::zero_to_negative:
                    err = {code::division_by_zero, "0 raised to the negative power " + y.to_string(), ""};
                    return std::nullopt;
                case PowError::too_large:
                    err = {code::bad_power, x.to_string() + " ^ " + y.to_string() + " is too large to compute exactly",
                           "numbers are limited to " + std::to_string(Number::max_bits) + " bits"};
                    return std::nullopt;
            }
            return std::nullopt;
        }
        case ast::Op::eq:
            return Value::of(x == y ? 1 : 0);
        case ast::Op::ne:
            return Value::of(x == y ? 0 : 1);
        case ast::Op::lt:
            return Value::of(x < y ? 1 : 0);
        case ast::Op::le:
            return Value::of(x <= y ? 1 : 0);
        case ast::Op::gt:
            return Value::of(x > y ? 1 : 0);
        case ast::Op::ge:
            return Value::of(x >= y ? 1 : 0);
        default:
            break;
    }
    err = {code::type_error, std::string("operator '") + op_text(op) + "' cannot be applied here", ""};
    return std::nullopt;
}

std::optional<Value> apply_function(Fn fn, const std::vector<Value>& args, OpError& err) {
    if (fn == Fn::one_of) {
        // x == a by =='s rules (a text compared with a number is an error), every candidate
        // compared, so an error does not depend on the candidates' order.
        bool found = false;
        for (std::size_t i = 1; i < args.size(); ++i) {
            auto eq = apply_binary(ast::Op::eq, args.at(0), args[i], err);
            if (!eq) return std::nullopt;
            found = found || !eq->num.is_zero();
        }
        return Value::of(found ? 1 : 0);
    }
    for (const auto& a : args) {
        if (!need_number(a, ast::function_names[static_cast<std::size_t>(fn)], err)) return std::nullopt;
    }
    switch (fn) {
        case Fn::min:
        case Fn::max: {
            Number best = args.at(0).num;
            for (std::size_t i = 1; i < args.size(); ++i) {
                bool better = fn == Fn::min ? args[i].num < best : args[i].num > best;
                if (better) best = args[i].num;
            }
            return Value::of(std::move(best));
        }
        case Fn::floor:
            return Value::of(args.at(0).num.floor());
        case Fn::ceil:
            return Value::of(args.at(0).num.ceil());
        case Fn::abs:
            return Value::of(args.at(0).num.abs());
        case Fn::one_of:
            break;
    }
    return std::nullopt;
}

}  // namespace costi::interp
