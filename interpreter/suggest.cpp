// Edit-distance suggestions for misspelt names.
#include "interpreter/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace costi::interp {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            auto ca = std::tolower(static_cast<unsigned char>(a[i - 1]));
            auto cb = std::tolower(static_cast<unsigned char>(b[j - 1]));
            std::size_t sub = prev[j - 1] + (ca == cb ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string last_component(const std::string& s) {
    auto dot = s.rfind('.');
    return dot == std::string::npos ? s : s.substr(dot + 1);
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    std::size_t best_d = std::max<std::size_t>(1, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    if (best) return best;
    // A short name for a long qualified one: `LlamaMLP` for transformers.models.llama.….LlamaMLP.
    std::optional<std::string> by_tail;
    for (const auto& c : candidates) {
        if (last_component(c) == last_component(word) && c != word) {
            if (by_tail) return std::nullopt;  // ambiguous
            by_tail = c;
        }
    }
    return by_tail;
}

}  // namespace costi::interp
