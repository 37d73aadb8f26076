// Reading input files safely: only regular files, never more than a stated size.
//
// Owns: the one way costi reads a file from disk (.cost files, config.json). A path that
// is not a regular file — a directory, /dev/zero, a FIFO, a socket — is refused before a
// byte is read (a FIFO is opened non-blocking, so it cannot hang the open either); the size
// limit is enforced while reading, so a file that grows or lies about its size cannot
// exhaust memory. Does not own what the text means (loader, config_json).
#pragma once

#include <cstdint>
#include <string>

#include "interpreter/source.hpp"

namespace costi::interp {

// The file's bytes. `display` names it in messages and `kind` says what it should be
// ("a .cost file", "a config.json"); errors are CostiError E0002 placed at `site`.
std::string read_text_file(const std::string& path, std::uintmax_t max_bytes, const Span& site,
                           const std::string& display, const char* kind);

}  // namespace costi::interp
