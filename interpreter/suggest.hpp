// "Did you mean": the closest candidate to a misspelt name.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace costi::interp {

// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
// (distance at most a third of the word's length, at least 1; a unique case-insensitive or
// last-component match also counts).
std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates);

// The case-insensitive edit (Levenshtein) distance between two names.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The last dotted part of a name ("torch.nn.Linear" -> "Linear"; a name without dots itself).
std::string last_component(const std::string& name);

// The candidates as "a, b, c", for hints that list what exists.
std::string join(const std::vector<std::string>& names);

}  // namespace costi::interp
