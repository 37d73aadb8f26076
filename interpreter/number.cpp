// Exact rationals: int64 fast path, GMP rationals otherwise (see number.hpp).
#include "interpreter/number.hpp"

#include <gmpxx.h>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <new>

namespace costi::interp {

// Powers larger than this many bits are refused before they are computed: a power such as
// 3^(10^15) would need more memory than the machine has. The same bound as every result.
static constexpr std::size_t max_power_bits = Number::max_bits;

struct NumberAccess {
    static mpq_class get(const Number& n) {
        if (n.big_ == nullptr) {
            mpq_class q;
            mpz_set_si(q.get_num_mpz_t(), n.small_);
            return q;
        }
        return mpq_class(n.big_);
    }

    // Builds a Number from a canonical mpq, demoting it to int64 when it fits.
    static Number make(const mpq_class& q) {
        Number n;
        if (mpz_cmp_ui(q.get_den_mpz_t(), 1) == 0 && mpz_fits_slong_p(q.get_num_mpz_t()) != 0) {
            n.small_ = mpz_get_si(q.get_num_mpz_t());
            return n;
        }
        n.big_ = static_cast<__mpq_struct*>(::operator new(sizeof(__mpq_struct)));
        mpq_init(n.big_);
        mpq_set(n.big_, q.get_mpq_t());
        return n;
    }
};

Number::Number(const Number& other) : small_(other.small_) {
    if (other.big_ != nullptr) {
        big_ = static_cast<__mpq_struct*>(::operator new(sizeof(__mpq_struct)));
        mpq_init(big_);
        mpq_set(big_, other.big_);
    }
}

Number& Number::operator=(const Number& other) {
    if (this != &other) {
        Number copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Number& Number::operator=(Number&& other) noexcept {
    if (this != &other) {
        if (big_ != nullptr) {
            mpq_clear(big_);
            ::operator delete(big_);
        }
        small_ = other.small_;
        big_ = other.big_;
        other.big_ = nullptr;
    }
    return *this;
}

Number::~Number() {
    if (big_ != nullptr) {
        mpq_clear(big_);
        ::operator delete(big_);
    }
}

bool Number::is_integer() const {
    return big_ == nullptr || mpz_cmp_ui(mpq_denref(big_), 1) == 0;
}

int Number::sign() const {
    if (big_ == nullptr) return small_ > 0 ? 1 : (small_ < 0 ? -1 : 0);
    return mpq_sgn(big_);
}

std::optional<std::int64_t> Number::to_int64() const {
    if (big_ == nullptr) return small_;
    return std::nullopt;  // by the invariant, a big value never fits
}

Number operator+(const Number& a, const Number& b) {
    std::int64_t r = 0;
    if (a.big_ == nullptr && b.big_ == nullptr && !__builtin_add_overflow(a.small_, b.small_, &r)) {
        return Number(r);
    }
    return NumberAccess::make(NumberAccess::get(a) + NumberAccess::get(b));
}

Number operator-(const Number& a, const Number& b) {
    std::int64_t r = 0;
    if (a.big_ == nullptr && b.big_ == nullptr && !__builtin_sub_overflow(a.small_, b.small_, &r)) {
        return Number(r);
    }
    return NumberAccess::make(NumberAccess::get(a) - NumberAccess::get(b));
}

Number operator*(const Number& a, const Number& b) {
    std::int64_t r = 0;
    if (a.big_ == nullptr && b.big_ == nullptr && !__builtin_mul_overflow(a.small_, b.small_, &r)) {
        return Number(r);
    }
    return NumberAccess::make(NumberAccess::get(a) * NumberAccess::get(b));
}

Number Number::operator-() const {
    return Number(0) - *this;
}

std::optional<Number> Number::divide(const Number& a, const Number& b) {
    if (b.is_zero()) return std::nullopt;
    if (a.big_ == nullptr && b.big_ == nullptr && b.small_ != -1 && a.small_ % b.small_ == 0) {
        return Number(a.small_ / b.small_);
    }
    return NumberAccess::make(NumberAccess::get(a) / NumberAccess::get(b));
}

std::optional<Number> Number::floor_divide(const Number& a, const Number& b) {
    auto q = divide(a, b);
    if (!q) return std::nullopt;
    return q->floor();
}

std::optional<Number> Number::modulo(const Number& a, const Number& b) {
    auto q = floor_divide(a, b);
    if (!q) return std::nullopt;
    return a - b * *q;
}

PowError Number::power(const Number& a, const Number& e, Number& out) {
    if (!e.is_integer()) return PowError::non_integer_exponent;
    if (e.is_zero()) {
        out = Number(1);
        return PowError::none;
    }
    if (a.is_zero()) {
        if (e.sign() < 0) return PowError::zero_to_negative;
        out = Number(0);
        return PowError::none;
    }
    mpq_class base = NumberAccess::get(a);
    // |a| == 1 never grows, whatever the exponent.
    if (::abs(base) == 1) {
        bool odd = mpz_odd_p(NumberAccess::get(e).get_num_mpz_t()) != 0;
        out = (base < 0 && odd) ? Number(-1) : Number(1);
        return PowError::none;
    }
    auto exp = e.to_int64();
    // |num|^e has at least (bits(num) - 1) * e + 1 bits, and likewise the denominator.
    std::size_t base_bits =
        mpz_sizeinbase(base.get_num_mpz_t(), 2) - 1 + mpz_sizeinbase(base.get_den_mpz_t(), 2) - 1;
    if (!exp || *exp > static_cast<std::int64_t>(max_power_bits) || *exp < -static_cast<std::int64_t>(max_power_bits)) {
        return PowError::too_large;
    }
    std::uint64_t mag = *exp < 0 ? static_cast<std::uint64_t>(-*exp) : static_cast<std::uint64_t>(*exp);
    // Refused before computing when even that lower bound is too large; a result just
    // above the limit is computed (cheaply) and refused by the caller's size check.
    if (base_bits * mag > max_power_bits) return PowError::too_large;
    mpq_class r;
    mpz_pow_ui(r.get_num_mpz_t(), base.get_num_mpz_t(), mag);
    mpz_pow_ui(r.get_den_mpz_t(), base.get_den_mpz_t(), mag);
    r.canonicalize();
    if (*exp < 0) r = 1 / r;
    out = NumberAccess::make(r);
    return PowError::none;
}

Number Number::floor() const {
    if (big_ == nullptr) return *this;
    mpz_class z;
    mpz_fdiv_q(z.get_mpz_t(), mpq_numref(big_), mpq_denref(big_));
    return NumberAccess::make(mpq_class(z));
}

Number Number::ceil() const {
    if (big_ == nullptr) return *this;
    mpz_class z;
    mpz_cdiv_q(z.get_mpz_t(), mpq_numref(big_), mpq_denref(big_));
    return NumberAccess::make(mpq_class(z));
}

Number Number::denominator() const {
    if (big_ == nullptr) return Number(1);
    return NumberAccess::make(mpq_class(mpz_class(mpq_denref(big_))));
}

Number Number::lcm(const Number& a, const Number& b) {
    if (a.big_ == nullptr && b.big_ == nullptr && a.small_ > 0 && b.small_ > 0) {
        std::int64_t x = a.small_, y = b.small_;
        while (y != 0) {
            std::int64_t t = x % y;
            x = y;
            y = t;
        }
        std::int64_t r = 0;
        if (!__builtin_mul_overflow(a.small_ / x, b.small_, &r)) return Number(r);
    }
    mpz_class r;
    mpz_lcm(r.get_mpz_t(), NumberAccess::get(a).get_num_mpz_t(), NumberAccess::get(b).get_num_mpz_t());
    return NumberAccess::make(mpq_class(r));
}

std::strong_ordering operator<=>(const Number& a, const Number& b) {
    if (a.big_ == nullptr && b.big_ == nullptr) return a.small_ <=> b.small_;
    int c = cmp(NumberAccess::get(a), NumberAccess::get(b));
    return c < 0 ? std::strong_ordering::less : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

std::string Number::to_string() const {
    if (big_ == nullptr) return std::to_string(small_);
    return NumberAccess::get(*this).get_str();
}

std::string Number::to_fixed(int decimals) const {
    mpq_class q = NumberAccess::get(*this);
    bool negative = q < 0;
    if (negative) q = -q;
    mpz_class scale;
    mpz_ui_pow_ui(scale.get_mpz_t(), 10, static_cast<unsigned long>(decimals));
    // round half away from zero: floor(q * scale + 1/2)
    mpq_class scaled = q * scale + mpq_class(1, 2);
    mpz_class whole;
    mpz_fdiv_q(whole.get_mpz_t(), scaled.get_num_mpz_t(), scaled.get_den_mpz_t());
    std::string digits = whole.get_str();
    if (decimals > 0) {
        if (digits.size() <= static_cast<std::size_t>(decimals)) {
            digits.insert(0, static_cast<std::size_t>(decimals) + 1 - digits.size(), '0');
        }
        std::size_t cut = digits.size() - static_cast<std::size_t>(decimals);
        std::string with_point;
        with_point.reserve(digits.size() + 2);
        with_point.append(digits, 0, cut);
        with_point.push_back('.');
        with_point.append(digits, cut, std::string::npos);
        digits = std::move(with_point);
    }
    if (negative && whole != 0) digits.insert(digits.begin(), '-');
    return digits;
}

std::size_t Number::bit_size() const {
    if (big_ == nullptr) return 64;
    return mpz_sizeinbase(mpq_numref(big_), 2) + mpz_sizeinbase(mpq_denref(big_), 2);
}

std::size_t Number::hash() const {
    if (big_ == nullptr) return std::hash<std::int64_t>{}(small_);
    std::size_t h = 0x9e3779b97f4a7c15ULL;
    auto mix = [&h](const __mpz_struct* z) {
        h ^= static_cast<std::size_t>(z->_mp_size) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        int n = z->_mp_size < 0 ? -z->_mp_size : z->_mp_size;
        for (int i = 0; i < n; ++i)
            h ^= static_cast<std::size_t>(z->_mp_d[i]) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    };
    mix(mpq_numref(big_));
    mix(mpq_denref(big_));
    return h;
}

// Literal syntax: [-]digits[.digits][(e|E)[+-]digits], or p/q with integer p and q;
// underscores between digits are ignored.
std::optional<Number> Number::parse(std::string_view text) {
    std::string s;
    for (char c : text) {
        if (c != '_') s.push_back(c);
    }
    if (s.empty()) return std::nullopt;
    if (auto slash = s.find('/'); slash != std::string::npos) {
        auto p = parse(std::string_view(s).substr(0, slash));
        auto q = parse(std::string_view(s).substr(slash + 1));
        if (!p || !q || !p->is_integer() || !q->is_integer()) return std::nullopt;
        return divide(*p, *q);
    }
    std::size_t i = 0;
    bool negative = false;
    if (s[i] == '-' || s[i] == '+') {
        negative = s[i] == '-';
        ++i;
    }
    std::string mantissa;
    std::size_t frac_digits = 0;
    bool seen_dot = false;
    bool any_digit = false;
    for (; i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.'); ++i) {
        if (s[i] == '.') {
            if (seen_dot) return std::nullopt;
            seen_dot = true;
            continue;
        }
        any_digit = true;
        mantissa.push_back(s[i]);
        if (seen_dot) ++frac_digits;
    }
    if (!any_digit) return std::nullopt;
    long long exponent = 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        bool eneg = false;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
            eneg = s[i] == '-';
            ++i;
        }
        if (i >= s.size()) return std::nullopt;
        for (; i < s.size(); ++i) {
            if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return std::nullopt;
            exponent = exponent * 10 + (s[i] - '0');
            // A decimal exponent beyond this is no cost anyone means; refuse it rather than
            // build a number of millions of digits.
            if (exponent > 100000) return std::nullopt;
        }
        if (eneg) exponent = -exponent;
    }
    if (i != s.size()) return std::nullopt;
    exponent -= static_cast<long long>(frac_digits);
    mpq_class q;
    if (mpz_set_str(q.get_num_mpz_t(), mantissa.c_str(), 10) != 0) return std::nullopt;
    mpz_class p10;
    mpz_ui_pow_ui(p10.get_mpz_t(), 10, static_cast<unsigned long>(exponent < 0 ? -exponent : exponent));
    if (exponent >= 0) {
        q *= p10;
    } else {
        q /= p10;
    }
    q.canonicalize();
    if (negative) q = -q;
    return NumberAccess::make(q);
}

}  // namespace costi::interp
