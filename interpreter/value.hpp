// Values: what an expression evaluates to.
//
// Owns: the tagged value (an exact number, a string such as config.hidden_act, or
// "absent" for a config key the model does not set). Does not own arithmetic (number.hpp)
// or the rules for mixing kinds (the evaluator reports those as errors).
#pragma once

#include <string>

#include "interpreter/number.hpp"

namespace costi::interp {

struct Value {
    enum class Kind : unsigned char { number, string, absent };
    Kind kind = Kind::absent;
    Number num;
    std::string str;

    static Value of(Number n) { return {Kind::number, std::move(n), {}}; }
    static Value of_string(std::string s) { return {Kind::string, Number(0), std::move(s)}; }
    bool is_number() const { return kind == Kind::number; }
    bool is_string() const { return kind == Kind::string; }
    bool is_absent() const { return kind == Kind::absent; }
    // For messages: 42, -7/2, "silu", absent.
    std::string show() const {
        if (is_number()) return num.to_string();
        if (is_string()) return "\"" + str + "\"";
        return "absent";
    }
};

}  // namespace costi::interp
