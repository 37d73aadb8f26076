// Exact rational numbers: the only value type arithmetic ever produces.
//
// Owns: the representation of exact rationals (a checked int64 fast path that falls back
// to GMP rationals), their arithmetic, comparison, parsing of literals and printing.
// Does not own: what a value means (see value.hpp) or how it is shown to people
// (report/human formatting builds on to_fixed()).
// This is the only module that touches GMP's C++ layer; others include just this header.
#pragma once

#include <gmp.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace costi::interp {

// Why a power could not be computed.
enum class PowError { none, non_integer_exponent, zero_to_negative, too_large };

class Number {
public:
    Number() = default;
    Number(std::int64_t v) : small_(v) {}  // NOLINT(google-explicit-constructor): literals
    Number(const Number& other);
    Number(Number&& other) noexcept : small_(other.small_), big_(other.big_) { other.big_ = nullptr; }
    Number& operator=(const Number& other);
    Number& operator=(Number&& other) noexcept;
    ~Number();

    // Parses "42", "0.5", "1e12", "989.4e12", "2.5E-3", "1_000", "9/16", "-3"; nullopt if malformed.
    static std::optional<Number> parse(std::string_view text);

    bool is_integer() const;
    // True when the value is an int64 (the fast path): no GMP storage behind it.
    bool is_small() const { return big_ == nullptr; }
    bool is_zero() const { return big_ == nullptr && small_ == 0; }
    int sign() const;
    // The value as int64 if it is an integer that fits.
    std::optional<std::int64_t> to_int64() const;

    friend Number operator+(const Number& a, const Number& b);
    friend Number operator-(const Number& a, const Number& b);
    friend Number operator*(const Number& a, const Number& b);
    Number operator-() const;
    Number& operator+=(const Number& b) { return *this = *this + b; }
    Number& operator*=(const Number& b) { return *this = *this * b; }

    // Exact quotient; nullopt when b is zero.
    static std::optional<Number> divide(const Number& a, const Number& b);
    // floor(a / b); nullopt when b is zero.
    static std::optional<Number> floor_divide(const Number& a, const Number& b);
    // a - b * floor(a / b); nullopt when b is zero.
    static std::optional<Number> modulo(const Number& a, const Number& b);
    // a ^ e for an integer e; the error says why not.
    static PowError power(const Number& a, const Number& e, Number& out);

    Number floor() const;
    Number ceil() const;
    Number abs() const { return sign() < 0 ? -*this : *this; }
    // The denominator of the canonical fraction (1 for integers).
    Number denominator() const;
    // The least common multiple of two positive integers.
    static Number lcm(const Number& a, const Number& b);

    friend std::strong_ordering operator<=>(const Number& a, const Number& b);
    friend bool operator==(const Number& a, const Number& b) { return (a <=> b) == 0; }

    // "123", "-7/2": exact, canonical.
    std::string to_string() const;
    // Decimal rendering rounded half away from zero to `decimals` places (display only).
    std::string to_fixed(int decimals) const;
    // Approximate size of numerator plus denominator, in bits.
    std::size_t bit_size() const;
    // A hash of the value (equal numbers hash equally), for memoising calls.
    std::size_t hash() const;

    // No operation produces a number larger than this (numerator plus denominator, in
    // bits; about 315,000 decimal digits): costs need a few hundred bits, and the limit
    // keeps every operation on its operands fast and every value small in memory.
    static constexpr std::size_t max_bits = std::size_t{1} << 20;

private:
    // Invariant: big_ == nullptr means the value is the integer small_; otherwise big_ holds
    // a canonical rational that is not an int64-representable integer.
    std::int64_t small_ = 0;
    __mpq_struct* big_ = nullptr;

    friend struct NumberAccess;
};

}  // namespace costi::interp
