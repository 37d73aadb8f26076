// Reading regular files with a size limit (see text_file.hpp).
#include "interpreter/text_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "interpreter/diagnostics.hpp"

namespace costi::interp {

namespace {

// Closes the descriptor however reading ends.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string megabytes(std::uintmax_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

std::string read_text_file(const std::string& path, std::uintmax_t max_bytes, const Span& site,
                           const std::string& display, const char* kind) {
    auto fail = [&](const std::string& message, const std::string& hint = "") -> std::string {
        throw CostiError(Diagnostic{code::io, site, message, hint, {}});
    };
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return fail("cannot read '" + display + "': no such file");
        return fail("cannot read '" + display + "': " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) return fail("'" + display + "' is a directory, not " + kind);
    if (!S_ISREG(st.st_mode)) {
        return fail("'" + display + "' is not a regular file", std::string("costi reads ") + kind +
                                                                   " only from a regular file (not a device, "
                                                                   "pipe or socket)");
    }
    Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
    if (f.fd < 0) return fail("cannot read '" + display + "': " + std::strerror(errno));
    // The path may have been swapped between stat and open: check what was opened.
    if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) return fail("'" + display + "' is not a regular file");
    auto too_large = [&]() {
        return fail("'" + display + "' is larger than " + megabytes(max_bytes) + ", the limit for " + kind,
                    "no real input comes near it; is this the file you meant?");
    };
    if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) return too_large();
    // Read straight into the string (no bounce buffer: a 64 KiB one on the stack cost a short
    // run eight page faults), sized by fstat plus one byte, so that a file that grew since is
    // noticed; it grows by doubling, never past one byte over the limit.
    const std::uintmax_t limit = max_bytes == UINTMAX_MAX ? max_bytes : max_bytes + 1;
    std::string text(static_cast<std::size_t>(std::min<std::uintmax_t>(st.st_size + 1u, limit)), '\0');
    std::size_t used = 0;
    while (true) {
        if (used == text.size()) text.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(2 * text.size(), limit)));
        ssize_t n = ::read(f.fd, text.data() + used, text.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("cannot read '" + display + "': " + std::strerror(errno));
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
        if (used > max_bytes) return too_large();
    }
    text.resize(used);
    return text;
}

}  // namespace costi::interp
