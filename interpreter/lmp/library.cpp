// costi's library as the import's fallback for classes no input defines.
#include "interpreter/lmp/library.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "interpreter/loader.hpp"
#include "interpreter/session.hpp"
#include "interpreter/suggest.hpp"

namespace costi::lmp {

namespace {

namespace fs = std::filesystem;

// The file's path inside the library folder ("kernels/llama.cost"), as a written file imports it.
std::string import_path(const std::string& file) {
    std::error_code ec;
    fs::path f = fs::weakly_canonical(file, ec);
    if (ec) return file;
    for (const auto& dir : interp::library_dirs()) {
        fs::path d = fs::weakly_canonical(dir, ec);
        if (ec) continue;
        fs::path rel = f.lexically_relative(d);
        if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
    }
    return f.string();
}

}  // namespace

const Library& Library::get() {
    static const Library lib = [] {
        Library l;
        l.load();
        return l;
    }();
    return lib;
}

void Library::load() {
    interp::Session s;
    try {
        s.load_library();
    } catch (const std::exception& e) {
        error_ = e.what();
        return;
    }
    const interp::Program& p = s.program();
    for (const auto& k : p.kernels) {
        LibraryKernel lk;
        lk.name = k->name;
        lk.file = k->name_span.file != nullptr ? import_path(k->name_span.file->name()) : "";
        for (const auto& prm : k->params) (prm.default_value ? lk.optional : lk.required).push_back(prm.name);
        for (const auto& c : k->children)
            lk.calls.push_back({c.label, c.kernel != nullptr ? c.kernel->name : "", c.count.has_value()});
        kernels_.push_back(std::move(lk));
    }
    std::sort(kernels_.begin(), kernels_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& [name, target] : p.aliases) {
        const interp::Kernel* k = p.find_kernel(name);
        aliases_.emplace_back(name, k != nullptr ? k->name : target);
    }
}

const LibraryKernel* Library::kernel(const std::string& name) const {
    auto it = std::lower_bound(kernels_.begin(), kernels_.end(), name, [](const auto& k, const std::string& n) { return k.name < n; });
    return it != kernels_.end() && it->name == name ? &*it : nullptr;
}

bool Library::defines(const std::string& name) const {
    if (kernel(name) != nullptr) return true;
    return std::any_of(aliases_.begin(), aliases_.end(), [&](const auto& a) { return a.first == name; });
}

std::optional<LibraryMatch> Library::find(const std::string& name) const {
    if (const LibraryKernel* k = kernel(name)) return LibraryMatch{k, ""};
    for (const auto& [alias, target] : aliases_)
        if (alias == name)
            if (const LibraryKernel* k = kernel(target)) return LibraryMatch{k, "through its alias " + alias};
    // A class named without its module path: the one library kernel whose last part it is.
    if (name.find('.') == std::string::npos && !name.empty()) {
        const LibraryKernel* found = nullptr;
        std::string via;
        bool ambiguous = false;
        auto consider = [&](const std::string& full, const std::string& target) {
            if (interp::last_component(full) != name) return;
            const LibraryKernel* k = kernel(target);
            if (k == nullptr) return;
            if (found != nullptr && found != k) ambiguous = true;
            if (found == nullptr) via = full;
            found = k;
        };
        for (const auto& k : kernels_) consider(k.name, k.name);
        for (const auto& [alias, target] : aliases_) consider(alias, target);
        if (found != nullptr && !ambiguous)
            return LibraryMatch{found, "by its short name" + (via == found->name ? std::string() : " (" + via + ")")};
    }
    return std::nullopt;
}

std::vector<std::string> Library::nearest(const std::string& name, std::size_t count) const {
    // Nearest by the last dotted part (the class), then by the whole name.
    std::vector<std::tuple<std::size_t, std::size_t, std::string>> scored;
    std::string want = interp::last_component(name);
    auto score = [&](const std::string& n) { scored.emplace_back(interp::edit_distance(want, interp::last_component(n)), interp::edit_distance(name, n), n); };
    for (const auto& k : kernels_) score(k.name);
    for (const auto& a : aliases_) score(a.first);
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> out;
    for (const auto& s : scored) {
        if (out.size() == count) break;
        out.push_back(std::get<2>(s));
    }
    return out;
}

}  // namespace costi::lmp
