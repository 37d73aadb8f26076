// Reading the predecessor's JSON files.
#include "interpreter/lmp/formats.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace costi::lmp {

namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& file, const std::string& path, const std::string& msg,
                       const std::string& hint = "") {
    throw ImportError(file, path, 0, msg, "", hint);
}

bool plain_key(const std::string& k) {
    if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
    return std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string key_path(const std::string& base, const std::string& key) {
    return plain_key(key) ? base + "." + key : base + "[" + json(key).dump() + "]";
}

const char* type_name(const json& v) {
    if (v.is_string()) return "a string";
    if (v.is_number_integer()) return "an integer";
    if (v.is_number()) return "a number";
    if (v.is_boolean()) return "a boolean";
    if (v.is_array()) return "an array";
    if (v.is_object()) return "an object";
    return "null";
}

struct Reader {
    const std::string& file;

    const json& member(const json& obj, const std::string& path, const std::string& key) const {
        auto it = obj.find(key);
        if (it == obj.end()) fail(file, path, "missing \"" + key + "\"");
        return *it;
    }

    std::string string(const json& v, const std::string& path) const {
        if (!v.is_string()) fail(file, path, std::string("expected a string, found ") + type_name(v));
        return v.get<std::string>();
    }

    std::vector<std::string> names(const json& v, const std::string& path) const {
        if (!v.is_array()) fail(file, path, std::string("expected an array of names, found ") + type_name(v));
        std::vector<std::string> out;
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::string p = path + "[" + std::to_string(i) + "]";
            std::string n = string(v[i], p);
            if (n.empty() || !plain_key(n)) fail(file, p, "'" + n + "' is not a parameter name");
            if (std::find(out.begin(), out.end(), n) != out.end()) fail(file, p, "parameter '" + n + "' listed twice");
            out.push_back(n);
        }
        return out;
    }

    // A formula: a string, or (as Python would format it) an integer.
    Formula formula(const json& v, const std::string& path) const {
        Formula f;
        f.origin.file = file;
        f.origin.json_path = path;
        if (v.is_number_integer()) {
            f.origin.text = v.dump();
        } else if (v.is_string()) {
            f.origin.text = v.get<std::string>();
        } else {
            fail(file, path, std::string("expected a formula string, found ") + type_name(v));
        }
        f.ast = parse_formula(f.origin);
        return f;
    }

    void only(const json& obj, const std::string& path, std::initializer_list<const char*> keys) const {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool known = std::any_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; });
            if (!known) {
                std::string allowed;
                for (const char* k : keys) allowed += std::string(allowed.empty() ? "" : ", ") + k;
                fail(file, key_path(path, it.key()), "unknown field \"" + it.key() + "\"", "this object has " + allowed);
            }
        }
    }
};

void read_kernel(const json& doc, Definition& d, const Reader& r) {
    d.name = r.string(r.member(doc, "$", "kernel_name"), "$.kernel_name");
    std::vector<std::string> init = doc.contains("init_params") ? r.names(doc["init_params"], "$.init_params")
                                                                : std::vector<std::string>{};
    std::vector<std::string> fwd = doc.contains("forward_params") ? r.names(doc["forward_params"], "$.forward_params")
                                                                  : std::vector<std::string>{};
    for (const auto& n : fwd)
        if (std::find(init.begin(), init.end(), n) != init.end())
            fail(d.file, "$.forward_params", "parameter '" + n + "' is also an init_param");
    bool leaf = doc.contains("flops") || doc.contains("memory_read") || doc.contains("memory_write");
    if (leaf && doc.contains("children"))
        fail(d.file, "$", "a kernel has either flops/memory_read/memory_write (a leaf) or children (a composite), not both");
    if (leaf) {
        r.only(doc, "$", {"kernel_name", "init_params", "forward_params", "flops", "memory_read", "memory_write"});
        d.kind = DefKind::leaf;
        d.leaf.init_params = init;
        d.leaf.forward_params = fwd;
        d.leaf.flops = r.formula(r.member(doc, "$", "flops"), "$.flops");
        d.leaf.read = r.formula(r.member(doc, "$", "memory_read"), "$.memory_read");
        d.leaf.write = r.formula(r.member(doc, "$", "memory_write"), "$.memory_write");
        for (const Formula* f : {&d.leaf.flops, &d.leaf.read, &d.leaf.write})
            if (has_ref(*f->ast)) fail(d.file, f->origin.json_path, "a leaf kernel's formula cannot reference another kernel", "list it under children");
        return;
    }
    r.only(doc, "$", {"kernel_name", "init_params", "forward_params", "children"});
    d.kind = DefKind::composite;
    d.composite.init_params = init;
    d.composite.forward_params = fwd;
    const json& children = r.member(doc, "$", "children");
    if (!children.is_object() || children.empty())
        fail(d.file, "$.children", "children must be an object with at least one child");
    for (auto it = children.begin(); it != children.end(); ++it) {
        std::string path = key_path("$.children", it.key());
        const json& c = it.value();
        if (!c.is_object()) fail(d.file, path, std::string("expected an object, found ") + type_name(c));
        r.only(c, path, {"kernel", "bindings", "count"});
        Child child;
        child.label = it.key();
        child.json_path = path;
        child.kernel = r.string(r.member(c, path, "kernel"), path + ".kernel");
        const json& b = r.member(c, path, "bindings");
        if (!b.is_object()) fail(d.file, path + ".bindings", std::string("expected an object, found ") + type_name(b));
        for (auto bi = b.begin(); bi != b.end(); ++bi)
            child.bindings.emplace_back(bi.key(), r.formula(bi.value(), key_path(path + ".bindings", bi.key())));
        if (c.contains("count")) {
            const json& n = c["count"];
            if (n.is_number_integer() && n.get<long long>() < 1)
                fail(d.file, path + ".count", "count must be at least 1");
            child.count = r.formula(n, path + ".count");
        }
        d.composite.children.push_back(std::move(child));
    }
}

// One entry of kernels[] (or of a sub_kernels[], nested as deep as the JSON allows: 64 levels).
Entry read_entry(const json& k, const std::string& path, std::size_t i, const Definition& d, const Reader& r) {
    if (!k.is_object()) fail(d.file, path, std::string("expected an object, found ") + type_name(k));
    r.only(k, path, {"kernel_type", "operation", "analysis", "flops", "memory_access", "repeat", "sub_kernels"});
    Entry e;
    e.index = i;
    e.json_path = path;
    e.kernel_type = r.string(r.member(k, path, "kernel_type"), path + ".kernel_type");
    if (e.kernel_type != "basic" && e.kernel_type != "composite")
        fail(d.file, path + ".kernel_type", "kernel_type must be \"basic\" or \"composite\", got \"" + e.kernel_type + "\"");
    e.operation = r.string(r.member(k, path, "operation"), path + ".operation");
    e.analysis = k.contains("analysis") ? r.string(k["analysis"], path + ".analysis") : "";
    if (k.contains("repeat")) {
        const json& n = k["repeat"];
        if (n.is_number_integer() && n.get<long long>() < 1) fail(d.file, path + ".repeat", "repeat must be at least 1");
        e.repeat = r.formula(n, path + ".repeat");
        if (has_ref(*e.repeat->ast)) fail(d.file, path + ".repeat", "a repeat count cannot reference a module");
    }
    if (k.contains("sub_kernels")) {
        if (k.contains("flops") || k.contains("memory_access"))
            fail(d.file, path, "an entry has either sub_kernels or flops and memory_access, not both");
        const json& subs = k["sub_kernels"];
        if (!subs.is_array()) fail(d.file, path + ".sub_kernels", std::string("expected an array, found ") + type_name(subs));
        for (std::size_t j = 0; j < subs.size(); ++j)
            e.sub_kernels.push_back(read_entry(subs[j], path + ".sub_kernels[" + std::to_string(j) + "]", j, d, r));
        return e;
    }
    if (!k.contains("analysis")) r.member(k, path, "analysis");
    e.flops = r.formula(r.member(k, path, "flops"), path + ".flops");
    const json& m = r.member(k, path, "memory_access");
    if (!m.is_object()) fail(d.file, path + ".memory_access", std::string("expected an object, found ") + type_name(m));
    r.only(m, path + ".memory_access", {"read", "write"});
    e.read = r.formula(r.member(m, path + ".memory_access", "read"), path + ".memory_access.read");
    e.write = r.formula(r.member(m, path + ".memory_access", "write"), path + ".memory_access.write");
    return e;
}

void read_module(const json& doc, Definition& d, const Reader& r) {
    d.kind = DefKind::module;
    r.only(doc, "$", {"class_name", "kernels"});
    d.name = r.string(r.member(doc, "$", "class_name"), "$.class_name");
    const json& ks = r.member(doc, "$", "kernels");
    if (!ks.is_array()) fail(d.file, "$.kernels", std::string("expected an array, found ") + type_name(ks));
    for (std::size_t i = 0; i < ks.size(); ++i)
        d.module.entries.push_back(read_entry(ks[i], "$.kernels[" + std::to_string(i) + "]", i, d, r));
}

void read_model(const json& doc, Definition& d, const Reader& r) {
    d.kind = DefKind::model;
    r.only(doc, "$", {"model_id", "layers"});
    d.name = r.string(r.member(doc, "$", "model_id"), "$.model_id");
    d.model.model_id = d.name;
    const json& layers = r.member(doc, "$", "layers");
    if (!layers.is_array() || layers.empty()) fail(d.file, "$.layers", "layers must be a non-empty array");
    // Walk the tree with an explicit stack: (json node, its path, the parent's index or npos).
    struct Todo {
        const json* node;
        std::string path;
        std::size_t parent;
    };
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<Todo> todo;
    for (std::size_t i = layers.size(); i-- > 0;) todo.push_back({&layers[i], "$.layers[" + std::to_string(i) + "]", none});
    while (!todo.empty()) {
        Todo t = std::move(todo.back());
        todo.pop_back();
        if (d.model.layers.size() >= max_layers) fail(d.file, t.path, "more than " + std::to_string(max_layers) + " layers");
        const json& l = *t.node;
        if (!l.is_object()) fail(d.file, t.path, std::string("expected an object, found ") + type_name(l));
        r.only(l, t.path, {"name", "class", "repeat", "sub_layers"});
        Layer layer;
        layer.json_path = t.path;
        layer.name = r.string(r.member(l, t.path, "name"), t.path + ".name");
        layer.cls = r.string(r.member(l, t.path, "class"), t.path + ".class");
        if (l.contains("repeat")) {
            const json& n = l["repeat"];
            if (n.is_number_integer() && n.get<long long>() < 1) fail(d.file, t.path + ".repeat", "repeat must be at least 1");
            layer.repeat = r.formula(n, t.path + ".repeat");
            if (has_ref(*layer.repeat->ast)) fail(d.file, t.path + ".repeat", "a repeat count cannot reference a module");
        }
        std::size_t index = d.model.layers.size();
        if (l.contains("sub_layers")) {
            const json& s = l["sub_layers"];
            if (!s.is_array()) fail(d.file, t.path + ".sub_layers", std::string("expected an array, found ") + type_name(s));
            layer.container = !s.empty();
            for (std::size_t i = s.size(); i-- > 0;)
                todo.push_back({&s[i], t.path + ".sub_layers[" + std::to_string(i) + "]", index});
        }
        d.model.layers.push_back(std::move(layer));
        if (t.parent == none) d.model.roots.push_back(index);
        else d.model.layers[t.parent].sub_layers.push_back(index);
    }
}

// Nesting of brackets outside strings, so that the recursive JSON parser never goes deeper.
void check_nesting(const std::string& name, const std::string& text) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_json_nesting)
                fail(name, "$", "JSON nested more than " + std::to_string(max_json_nesting) + " levels deep");
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
}

}  // namespace

void read_json_text(const std::string& name, const std::string& text, Inputs& into) {
    check_nesting(name, text);
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        auto colon = what.find("]: ");
        fail(name, "$", "malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon + 3)));
    }
    if (!doc.is_object()) fail(name, "$", std::string("expected a JSON object, found ") + type_name(doc));
    if (doc.contains("$schema")) {
        into.skipped.push_back(name);
        return;
    }
    Reader r{name};
    Definition d;
    d.file = name;
    if (doc.contains("kernel_name")) {
        read_kernel(doc, d, r);
    } else if (doc.contains("class_name")) {
        read_module(doc, d, r);
    } else if (doc.contains("layers")) {
        read_model(doc, d, r);
    } else if (!doc.empty() && std::all_of(doc.begin(), doc.end(), [](const json& v) { return v.is_string(); })) {
        if (!into.name_map_file.empty())
            fail(name, "$", "a second kernel name map", "the first is " + into.name_map_file);
        into.name_map_file = name;
        for (auto it = doc.begin(); it != doc.end(); ++it) into.name_map[it.key()] = it.value().get<std::string>();
        return;
    } else {
        fail(name, "$", "not a format this importer reads",
             "expected kernel_name (a kernel), class_name (a module analysis), layers (a model) or a name map");
    }
    for (const auto& other : into.definitions)
        if (other.name == d.name)
            fail(name, "$", "'" + d.name + "' is defined twice", "also in " + other.file);
    into.definitions.push_back(std::move(d));
}

Inputs read_inputs(const std::vector<std::string>& paths) {
    std::vector<std::string> files;
    for (const auto& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<std::string> found;
            for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
                if (it->is_regular_file(ec) && it->path().extension() == ".json") found.push_back(it->path().string());
            }
            if (ec) fail(p, "", "cannot read the directory: " + ec.message());
            std::sort(found.begin(), found.end());
            if (found.empty()) fail(p, "", "no .json file in this directory");
            files.insert(files.end(), found.begin(), found.end());
        } else {
            files.push_back(p);
        }
    }
    Inputs in;
    for (const auto& f : files) {
        std::error_code ec;
        if (!fs::is_regular_file(f, ec)) fail(f, "", fs::exists(f, ec) ? "not a regular file" : "no such file");
        auto size = fs::file_size(f, ec);
        if (ec) fail(f, "", "cannot read: " + ec.message());
        if (size > max_json_bytes) fail(f, "", "larger than " + std::to_string(max_json_bytes >> 20) + " MiB");
        std::ifstream in_file(f, std::ios::binary);
        std::ostringstream s;
        s << in_file.rdbuf();
        if (!in_file && !in_file.eof()) fail(f, "", "cannot read");
        read_json_text(f, s.str(), in);
    }
    return in;
}

}  // namespace costi::lmp
