// Hugging Face config.json files as config values.
//
// Owns: reading a config.json exactly (numbers from their decimal text, never through a
// double), flattening it to config keys: nested objects as dotted names
// (rope_scaling.factor), booleans as 1/0, null as absent, arrays as name.0, name.1, …
// Does not own what the keys mean (kernels decide) or choosing a kernel (session).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "interpreter/source.hpp"
#include "interpreter/value.hpp"

namespace costi::interp {

using ConfigEntries = std::vector<std::pair<std::string, Value>>;

// Parses JSON text; `name` is used in messages. Throws CostiError (E0301) on bad JSON or
// when the top level is not an object.
ConfigEntries parse_config_json(const std::string& text, const std::string& name, const Span& site);

// Reads and parses a file. Throws CostiError (E0002 / E0301).
ConfigEntries read_config_json(const std::string& path, const Span& site);

}  // namespace costi::interp
