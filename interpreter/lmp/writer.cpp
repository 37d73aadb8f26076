// What the predecessor's definitions mean together, written as .cost files.
#include "interpreter/lmp/writer.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "interpreter/lmp/library.hpp"
#include "interpreter/suggest.hpp"

namespace costi::lmp {

namespace {

// A warning's place: the entry, not each of its three formulas (they repeat one reference).
std::string entry_place(const Origin& o) {
    std::string p = o.json_path;
    for (const char* tail : {".flops", ".memory_access.read", ".memory_access.write"}) {
        std::string t(tail);
        if (p.size() > t.size() && p.compare(p.size() - t.size(), t.size(), t) == 0) return p.substr(0, p.size() - t.size());
    }
    return p;
}

const std::set<std::string>& runtime_set() {
    static const std::set<std::string> s = {"batch_size", "seq_len", "cache_len", "w_bytes",
                                            "a_bytes",    "kv_bytes", "bytes"};
    return s;
}

// Names the cost language keeps for itself: a parameter so named gets a trailing '_'.
const std::set<std::string>& reserved_set() {
    static const std::set<std::string> s = {
        "and",   "or",     "not",    "if",   "then",    "else",   "true",  "false", "import", "metric",
        "runtime", "kernel", "alias", "model", "let",    "require", "source", "doc",  "repeat", "with",
        "config", "unit",  "from",   "hw",   "min",     "max",    "floor", "ceil",  "abs",    "one_of", "flops",
        "read",  "write",  "params", "active_params", "every", "engine", "property", "hardware"};
    return s;
}

bool let_like(const std::string& n) {
    static const std::regex r("(flops|read|write)_[0-9_]+|_[tw][0-9]+");
    return std::regex_match(n, r);
}

std::string costi_param(const std::string& p) {
    return reserved_set().count(p) != 0 || let_like(p) ? p + "_" : p;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
    return out;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\', out += c;
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') continue;
        else out += c;
    }
    return out + "\"";
}

// The text as comment lines, each prefixed, wrapped near 100 columns.
void comment(std::vector<std::string>& lines, const std::string& prefix, const std::string& text) {
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        constexpr std::size_t width = 96;
        while (line.size() > width) {
            std::size_t cut = line.rfind(' ', width);
            if (cut == std::string::npos || cut == 0) cut = width;
            // Do not cut a UTF-8 sequence.
            while (cut < line.size() && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) ++cut;
            lines.push_back(prefix + line.substr(0, cut));
            line = line.substr(cut);
            while (!line.empty() && line.front() == ' ') line.erase(0, 1);
        }
        lines.push_back(line.empty() ? prefix.substr(0, prefix.find_last_not_of(' ') + 1) : prefix + line);
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
}

// A label from an operation's words: `qkv_projection_through_conv1d`.
std::string slug(const std::string& text, std::size_t max_words = 4) {
    std::string out;
    std::size_t words = 0;
    bool in_word = false;
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            if (!in_word) {
                if (words == max_words) break;
                if (!out.empty()) out += '_';
                ++words;
                in_word = true;
            }
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
            in_word = false;
        }
    }
    if (out.size() > 40) out.resize(40);
    while (!out.empty() && out.back() == '_') out.pop_back();
    if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])) != 0) out = "k_" + out;
    if (reserved_set().count(out) != 0) out += "_";
    return out;
}

std::string identifier(const std::string& s) {
    std::string out;
    for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ? c : '_';
    if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])) != 0) out = "_" + out;
    return out;
}

// A label from a child's or layer's name: an identifier the statement grammar does not
// take for a keyword (`source: …` would be a citation).
std::string label_of(const std::string& s) {
    std::string out = identifier(s);
    return reserved_set().count(out) != 0 ? out + "_" : out;
}

// The line references of an analysis text: "Line 125", "lines 192-200".
std::vector<std::string> line_refs(const std::string& text) {
    static const std::regex r(R"(\b[Ll]ines? (\d+)(?:\s*[-–]\s*(\d+))?)");
    std::vector<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), r), end; it != end; ++it) {
        std::string ref = (*it)[2].matched ? "lines " + (*it)[1].str() + "-" + (*it)[2].str() : "line " + (*it)[1].str();
        if (!contains(out, ref)) out.push_back(ref);
    }
    return out;
}

// How a callable takes its arguments.
struct Sig {
    std::vector<std::string> order;   // positional order, the predecessor's names (runtime names too)
    std::vector<std::string> params;  // the cost-language parameters, the predecessor's names, in order
    bool propagates = false;          // unbound callee parameters take this caller's value
    std::vector<std::string> optional;  // a library kernel's parameters with a default: bound only when given
};

struct Callable {
    std::string display;  // the predecessor's name
    std::string kernel;   // the cost-language kernel name
    std::string file;     // the written file defining it (a library kernel: its library file)
    Sig sig;
    const LibraryKernel* library = nullptr;  // a class resolved to costi's library
};

struct Arg {
    std::string keyword;
    const Node* node;
    const Origin* origin;
};

class Writer;

// One kernel body being written.
struct Body {
    Writer& w;
    Callable& self;
    std::string def_file;
    std::vector<std::string> lines;
    std::vector<std::pair<std::string, std::string>> lets;
    int counter = 0;
    std::set<std::string> imports;
    std::set<std::string> labels;
    std::map<std::string, std::string> held;  // a `with` value's text -> the let holding it

    // A let holding `value`, evaluated once in this kernel: `with (a = x, b = y)` rebinds in
    // order (b's value would see the new a), where Python binds all at once.
    std::string hold(const std::string& value) {
        auto it = held.find(value);
        if (it != held.end()) return it->second;
        std::string name = "_w" + std::to_string(held.size() + 1);
        held.emplace(value, name);
        lets.emplace_back(name, value);
        return name;
    }

    std::string label(const std::string& want) {
        std::string l = want;
        for (int i = 2; labels.count(l) != 0; ++i) l = want + "_" + std::to_string(i);
        labels.insert(l);
        return l;
    }

    std::string resolve(const std::string& name, std::size_t col, const Origin& o) {
        if (contains(self.sig.params, name)) return costi_param(name);
        if (runtime_set().count(name) != 0) return name;
        if (!self.sig.propagates) {
            throw ImportError(o.file, o.json_path, col, "'" + name + "' is not bound",
                              o.text,
                              self.sig.params.empty() ? "this kernel has no parameters"
                                                      : "the parameters here are " + join(self.sig.params) +
                                                            "; the runtime variables " + join({runtime_set().begin(), runtime_set().end()}));
        }
        self.sig.params.push_back(name);
        if (!contains(self.sig.order, name)) self.sig.order.push_back(name);
        return costi_param(name);
    }

    Translation translation(const Origin& o) {
        Translation tr;
        tr.resolve = [this, &o](const std::string& n, std::size_t col) { return resolve(n, col, o); };
        tr.lets = &lets;
        tr.let_counter = &counter;
        return tr;
    }

    std::string expr(const Node& n, const Origin& o, int level = 0) {
        Translation tr = translation(o);
        return translate_at(n, level, o, tr);
    }

    void flush_lets() {
        for (const auto& [name, value] : lets) lines.push_back("  let " + name + " = " + value);
        lets.clear();
    }
};

std::string times(const std::string& a, int la, const std::string& b, int lb) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return (la < 7 ? "(" + a + ")" : a) + " * " + (lb < 8 ? "(" + b + ")" : b);
}

// The entries of a module with their sub_kernels, depth first, each with the repeats that
// multiply it (its own and its enclosing entries'), walked with an explicit stack.
struct FlatEntry {
    const Entry* entry;
    std::string id;                        // "3", or "3_1" for sub_kernels[1] of kernels[3]
    std::vector<const Formula*> repeats;  // outermost first
    int depth = 0;
};

std::vector<FlatEntry> flatten(const std::vector<Entry>& entries) {
    std::vector<FlatEntry> out;
    std::vector<FlatEntry> todo;
    for (std::size_t i = entries.size(); i-- > 0;) todo.push_back({&entries[i], std::to_string(i), {}, 0});
    while (!todo.empty()) {
        FlatEntry f = std::move(todo.back());
        todo.pop_back();
        if (f.entry->repeat) f.repeats.push_back(&*f.entry->repeat);
        const auto& subs = f.entry->sub_kernels;
        for (std::size_t j = subs.size(); j-- > 0;)
            todo.push_back({&subs[j], f.id + "_" + std::to_string(j), f.repeats, f.depth + 1});
        out.push_back(std::move(f));
    }
    return out;
}

class Writer {
public:
    Writer(const Inputs& in, const WriteOptions& options) : in_(in), options_(options) {}

    WriteResult run();

    // ---- references ----
    // The definition an input gives `name` (directly or through the name map), if any.
    std::optional<std::size_t> input_def(const std::string& name) const {
        for (std::size_t i = 0; i < in_.definitions.size(); ++i)
            if (in_.definitions[i].name == name && in_.definitions[i].kind != DefKind::model) return i;
        auto m = in_.name_map.find(name);
        if (m != in_.name_map.end()) {
            for (std::size_t i = 0; i < in_.definitions.size(); ++i)
                if (in_.definitions[i].name == m->second && in_.definitions[i].kind != DefKind::model) return i;
        }
        return std::nullopt;
    }

    // The library kernel `name` is (directly, then through the name map), when no input defines it.
    std::optional<LibraryMatch> library_match(const std::string& name) const {
        const Library& lib = Library::get();
        if (auto found = lib.find(name)) return found;
        auto m = in_.name_map.find(name);
        if (m != in_.name_map.end())
            if (auto found = lib.find(m->second)) {
                found->how = "through the name map's '" + m->second + "'" + (found->how.empty() ? "" : ", " + found->how);
                return found;
            }
        return std::nullopt;
    }

    // The callable of a library kernel (made once per class name), with a warning naming what
    // the class was mapped to.
    std::size_t library_callable(const std::string& name, const LibraryMatch& found, const std::string& file,
                                 const std::string& path) {
        auto it = library_index_.find(name);
        if (it != library_index_.end()) return it->second;
        const LibraryKernel& k = *found.kernel;
        Callable c;
        c.display = "${" + name + "} (costi's " + k.name + ")";
        c.kernel = k.name;
        c.file = k.file;
        c.library = &k;
        c.sig.params = k.required;
        c.sig.optional = k.optional;
        c.sig.order = k.required;
        c.sig.order.insert(c.sig.order.end(), k.optional.begin(), k.optional.end());
        std::size_t index = callables_.size();
        callables_.push_back(std::move(c));
        library_index_.emplace(name, index);
        warnings_.insert(file + ": " + path + ": '" + name + "' is defined by no input file: resolved to costi's library kernel $" +
                         k.name + " (" + k.file + (found.how.empty() ? "" : ", " + found.how) + "), " +
                         (k.calls.empty() ? "a leaf" : "a composite") + " taking " +
                         (k.required.empty() ? std::string("no parameters") : join(k.required)) +
                         (k.optional.empty() ? "" : " (defaulted: " + join(k.optional) + ")"));
        return index;
    }

    std::size_t resolve_def(const std::string& name, const std::string& file, const std::string& path,
                            std::size_t col, const std::string& text) {
        if (auto i = input_def(name)) return *i;
        if (auto found = library_match(name)) return library_callable(name, *found, file, path);
        auto m = in_.name_map.find(name);
        std::vector<std::string> names;
        for (const auto& d : in_.definitions)
            if (d.kind != DefKind::model) names.push_back(d.name);
        auto best = interp::closest(name, names);
        const Library& lib = Library::get();
        std::vector<std::string> near = lib.nearest(name);
        std::string nearest = !lib.load_error().empty() ? "costi's library could not be loaded: " + lib.load_error()
                              : near.empty()            ? "costi's library was not found"
                                                        : "the nearest names in costi's library: " + join(near);
        throw ImportError(file, path, col,
                          "'" + name + "' is defined by no input file nor costi's library" +
                              (m != in_.name_map.end() ? " (the name map maps it to '" + m->second + "', which none defines either)" : ""),
                          text,
                          (best ? "did you mean '" + *best + "'? " : std::string("import the file that analyses it along with this one; ")) +
                              nearest);
    }

    // The call of `callee` from `body` with `args`, as "$K(…) with (…)"; `at` locates errors about the call as a whole.
    std::string call(Body& body, const Callable& callee, const std::vector<Arg>& args, const Origin& at,
                     std::size_t at_col, bool warn) {
        std::map<std::string, std::string> bound;
        std::vector<std::string> bound_order;
        std::size_t positional = 0;
        for (const Arg& a : args) {
            std::string target;
            std::size_t col = a.node->column;
            if (a.keyword.empty()) {
                if (positional >= callee.sig.order.size() && options_.drop_extra_arguments) {
                    warnings_.insert(a.origin->file + ": " + entry_place(*a.origin) + ": dropped an argument " + callee.display + " has no place for (it takes " +
                                     std::to_string(callee.sig.order.size()) + ": " + join(callee.sig.order) + ")");
                    continue;
                }
                if (positional >= callee.sig.order.size())
                    throw ImportError(a.origin->file, a.origin->json_path, col,
                                      "too many positional arguments for " + callee.display + ": it takes " +
                                          std::to_string(callee.sig.order.size()),
                                      a.origin->text,
                                      (callee.sig.order.empty() ? std::string("it takes none") : "its parameters, in order: " + join(callee.sig.order)) +
                                          "; --drop-extra-arguments drops the extra ones (with a warning)");
                target = callee.sig.order[positional++];
            } else {
                target = a.keyword;
                if (!contains(callee.sig.order, target) && !contains(callee.sig.params, target) &&
                    runtime_set().count(target) == 0) {
                    auto best = interp::closest(target, callee.sig.order);
                    throw ImportError(a.origin->file, a.origin->json_path, col,
                                      callee.display + " has no parameter '" + target + "'", a.origin->text,
                                      best ? "did you mean '" + *best + "'? (it takes " + join(callee.sig.order) + ")"
                                           : "it takes " + (callee.sig.order.empty() ? std::string("no parameters") : join(callee.sig.order)));
                }
            }
            if (bound.count(target) != 0)
                throw ImportError(a.origin->file, a.origin->json_path, col,
                                  "parameter '" + target + "' of " + callee.display + " bound twice", a.origin->text);
            bound[target] = body.expr(*a.node, *a.origin);
            bound_order.push_back(target);
        }
        std::vector<std::string> out_args;
        // A library kernel's parameters keep their names (they are cost-language names already).
        auto arg_name = [&](const std::string& p) { return callee.library != nullptr ? p : costi_param(p); };
        for (const auto& p : callee.sig.params) {
            auto it = bound.find(p);
            if (it != bound.end()) {
                out_args.push_back(arg_name(p) + " = " + it->second);
            } else if (body.self.sig.propagates) {
                out_args.push_back(arg_name(p) + " = " + body.resolve(p, at_col, at));
                if (warn)
                    warnings_.insert(at.file + ": " + entry_place(at) + ": " + callee.display + " leaves '" + p +
                                     "' unbound; it takes " + body.self.display + "'s '" + p + "'");
            } else {
                throw ImportError(at.file, at.json_path, at_col,
                                  "parameter '" + p + "' of " + callee.display + " is not bound", at.text,
                                  "bind every parameter: " + join(callee.sig.params));
            }
        }
        std::vector<std::pair<std::string, std::string>> rebind;
        for (const auto& t : bound_order) {
            if (contains(callee.sig.params, t)) continue;
            if (contains(callee.sig.optional, t)) {
                out_args.push_back(t + " = " + bound[t]);
                continue;
            }
            if (bound[t] != t) rebind.emplace_back(t, bound[t]);
        }
        std::vector<std::string> with;
        for (const auto& [t, v] : rebind) {
            bool constant = v.find_first_not_of("0123456789./e-") == std::string::npos;
            with.push_back(t + " = " + (rebind.size() > 1 && !constant ? body.hold(v) : v));
        }
        body.imports.insert(callee.file);
        std::string text = "$" + callee.kernel + "(" + join(out_args) + ")";
        if (!with.empty()) text += " with (" + join(with) + ")";
        return text;
    }

    // ---- linear forms: sum of count × reference, plus the rest ----
    struct Term {
        const Node* ref;
        std::string coef;
        int level = 10;
    };
    struct Lin {
        std::vector<Term> terms;
        std::string rest;  // empty: zero
        int level = 10;
    };

    Lin linear(const Node& n, Body& b, const Origin& o) {
        Lin out;
        if (!has_ref(n)) {
            out.rest = b.expr(n, o);
            out.level = level_of(n);
            return out;
        }
        auto at = [](const std::string& s, int have, int want) { return have < want ? "(" + s + ")" : s; };
        if (n.kind == Kind::ref) {
            out.terms.push_back({&n, "", 10});
            return out;
        }
        if (n.kind == Kind::unary && n.text == "+") return linear(*n.kids[0], b, o);
        if (n.kind == Kind::binary && (n.text == "+" || n.text == "-")) {
            const Node& r = *n.kids[1];
            if (n.text == "-" && has_ref(r)) {
                throw ImportError(o.file, o.json_path, n.column, "a reference cannot be subtracted", o.text,
                                  "a reference is a call, counted a non-negative number of times");
            }
            Lin L = linear(*n.kids[0], b, o);
            Lin R = linear(r, b, o);
            out.terms = std::move(L.terms);
            for (auto& t : R.terms) out.terms.push_back(std::move(t));
            if (L.rest.empty() && R.rest.empty()) return out;
            if (R.rest.empty()) {
                out.rest = L.rest;
                out.level = L.level;
            } else if (L.rest.empty()) {
                out.rest = n.text == "-" ? "-" + at(R.rest, R.level, 8) : R.rest;
                out.level = n.text == "-" ? 8 : R.level;
            } else {
                out.rest = at(L.rest, L.level, 6) + " " + n.text + " " + at(R.rest, R.level, 7);
                out.level = 6;
            }
            return out;
        }
        if (n.kind == Kind::binary && (n.text == "*" || n.text == "/")) {
            bool left_ref = has_ref(*n.kids[0]);
            bool right_ref = has_ref(*n.kids[1]);
            if (left_ref && right_ref)
                throw ImportError(o.file, o.json_path, n.column, "two references multiplied", o.text,
                                  "a reference may be multiplied by a factor without references");
            if (n.text == "/" && right_ref)
                throw ImportError(o.file, o.json_path, n.column, "a reference cannot divide", o.text);
            const Node& lin_side = left_ref ? *n.kids[0] : *n.kids[1];
            const Node& factor = left_ref ? *n.kids[1] : *n.kids[0];
            Lin L = linear(lin_side, b, o);
            std::string f = b.expr(factor, o);
            int fl = level_of(factor);
            auto scale = [&](const std::string& x, int xl, int& level) -> std::string {
                level = 7;
                if (n.text == "/") return x.empty() ? "1 / " + at(f, fl, 8) : at(x, xl, 7) + " / " + at(f, fl, 8);
                if (x.empty()) {
                    level = fl;
                    return f;
                }
                return left_ref ? at(x, xl, 7) + " * " + at(f, fl, 8) : at(f, fl, 7) + " * " + at(x, xl, 8);
            };
            for (auto& t : L.terms) {
                int lv = 10;
                std::string c = scale(t.coef, t.level, lv);
                out.terms.push_back({t.ref, c, lv});
            }
            if (!L.rest.empty()) out.rest = scale(L.rest, L.level, out.level);
            return out;
        }
        // Anything else holding a reference: translate() names it.
        b.expr(n, o);
        return out;
    }

    // ---- the definitions ----
    void write_leaf(const Definition& d, Callable& c, std::vector<std::string>& head);
    void write_composite(const Definition& d, Callable& c, Body& b);
    void write_module(const Definition& d, Callable& c, Body& b);
    std::string kernel_text(const Callable& c, Body& b, const std::string& doc, const std::vector<std::string>& sources,
                            const std::vector<std::string>& prelude_lines);

    const Inputs& in_;
    WriteOptions options_;
    std::deque<Callable> callables_;  // one per definition (a model's root for a model), then library kernels
    std::map<std::string, std::size_t> library_index_;  // a class resolved to the library -> its callable
    static constexpr std::size_t none_ = static_cast<std::size_t>(-1);
    // Per model definition, per layer: the library callable costing it (a container whose
    // class the library defines as a composite), else none_.
    std::map<std::size_t, std::vector<std::size_t>> library_layers_;
    // Per model definition, per layer: inside a layer the library costs (not written).
    std::map<std::size_t, std::vector<bool>> library_inner_;

    // The sub_layers of a layer the library costs, next to the library composite's calls:
    // a warning for each that the library does not call, or calls as something else.
    void check_sub_layers(const Definition& d, std::size_t root, const LibraryKernel& root_kernel) {
        const auto& layers = d.model.layers;
        std::vector<std::pair<std::size_t, const LibraryKernel*>> todo{{root, &root_kernel}};
        while (!todo.empty()) {
            auto [k, K] = todo.back();
            todo.pop_back();
            std::vector<std::string> labels;
            for (const auto& c : K->calls) labels.push_back(c.label);
            for (std::size_t s : layers[k].sub_layers) {
                const Layer& sl = layers[s];
                std::string place = d.file + ": " + sl.json_path + ": ";
                std::optional<LibraryMatch> m;
                bool in_inputs = input_def(sl.cls).has_value();
                if (!in_inputs) m = library_match(sl.cls);
                const LibraryKernel::Call* c = nullptr;
                for (const auto& call : K->calls)
                    if (call.label == identifier(sl.name)) c = &call;
                if (c == nullptr && m)
                    for (const auto& call : K->calls)
                        if (call.kernel == m->kernel->name && c == nullptr) c = &call;
                if (c == nullptr) {
                    warnings_.insert(place + "sub_layer '" + sl.name + "' (" + sl.cls + ") is not among the calls of costi's $" +
                                     K->name + " (" + join(labels) + "): its forward does not run it, so it is not counted");
                    continue;
                }
                std::string as = "the library's call '" + c->label + "': $" + c->kernel;
                if (in_inputs)
                    warnings_.insert(place + "sub_layer '" + sl.name + "': the inputs' analysis of " + sl.cls +
                                     " is not used; it is costed as " + as);
                else if (!m)
                    warnings_.insert(place + "sub_layer '" + sl.name + "': " + sl.cls +
                                     " is defined by no input file nor costi's library; it is costed as " + as);
                else if (m->kernel->name != c->kernel)
                    warnings_.insert(place + "sub_layer '" + sl.name + "' (" + sl.cls + ", costi's $" + m->kernel->name +
                                     ") is costed as " + as);
                if (sl.repeat)
                    warnings_.insert(place + "sub_layer '" + sl.name + "' repeat " + sl.repeat->origin.text + ": " +
                                     (c->counted ? "costed with the count " + as + " has in the library (not checked against the tree's)"
                                                 : "not applied: " + as + " is called once"));
                if (sl.container) {
                    const LibraryKernel* ck = Library::get().kernel(c->kernel);
                    if (ck != nullptr && !ck->calls.empty()) todo.emplace_back(s, ck);
                }
            }
        }
    }
    std::set<std::string> warnings_;
};

std::string Writer::kernel_text(const Callable& c, Body& b, const std::string& doc,
                                const std::vector<std::string>& sources, const std::vector<std::string>& pre) {
    std::vector<std::string> params;
    for (const auto& p : c.sig.params) params.push_back(costi_param(p));
    std::string out = "kernel " + c.kernel + (params.empty() ? "" : "(" + join(params) + ")") + " {\n";
    out += "  doc " + quote(doc) + "\n";
    for (const auto& s : sources) out += "  source " + quote(s) + "\n";
    for (const auto& l : pre) out += l + "\n";
    for (const auto& l : b.lines) out += l + "\n";
    out += "}\n";
    return out;
}

void Writer::write_composite(const Definition& d, Callable& c, Body& b) {
    for (const Child& ch : d.composite.children) {
        std::size_t callee = resolve_def(ch.kernel, d.file, ch.json_path + ".kernel", 0, "");
        std::vector<Arg> args;
        for (const auto& [name, f] : ch.bindings) {
            // A binding's key is the callee's parameter; its value a formula in this kernel's names.
            args.push_back({name, f.ast.get(), &f.origin});
        }
        Origin at{d.file, ch.json_path + ".bindings", ""};
        std::string count;
        if (ch.count) count = b.expr(*ch.count->ast, ch.count->origin);
        std::string text = call(b, callables_[callee], args, at, 0, false);
        b.flush_lets();
        std::string label = b.label(label_of(ch.label));
        b.lines.push_back("  " + label + ": " + (count.empty() || count == "1" ? "" : "repeat " + count + " ") + text);
    }
    (void)c;
}

void Writer::write_module(const Definition& d, Callable& c, Body& b) {
    std::vector<std::string> sums[3];
    const char* metric[3] = {"flops", "read", "write"};
    for (const FlatEntry& fe : flatten(d.module.entries)) {
        const Entry& e = *fe.entry;
        std::string indent(static_cast<std::size_t>(2 * fe.depth), ' ');
        b.lines.push_back("");
        comment(b.lines, "  # " + indent, "[" + fe.id + "] " + e.kernel_type + ": " + e.operation);
        if (!e.analysis.empty()) comment(b.lines, "  #   " + indent, e.analysis);
        std::string repeat;
        int repeat_level = 10;
        for (const Formula* r : fe.repeats) {
            std::string t = b.expr(*r->ast, r->origin);
            if (t == "1") continue;
            int l = level_of(*r->ast);
            repeat = times(repeat, repeat_level, t, l);
            repeat_level = repeat.find(' ') == std::string::npos ? l : 7;
        }
        if (!e.sub_kernels.empty()) {
            if (e.repeat) b.lines.push_back("  #   " + indent + "(its sub_kernels below are repeated " + b.expr(*e.repeat->ast, e.repeat->origin) + " times)");
            continue;
        }
        const Formula* fs[3] = {&e.flops, &e.read, &e.write};
        Lin lins[3];
        std::vector<std::string> calls[3];
        for (int m = 0; m < 3; ++m) {
            lins[m] = linear(*fs[m]->ast, b, fs[m]->origin);
            for (const Term& t : lins[m].terms) {
                std::size_t callee = resolve_def(t.ref->text, d.file, fs[m]->origin.json_path, t.ref->column, fs[m]->origin.text);
                std::vector<Arg> args;
                for (std::size_t i = 0; i < t.ref->kids.size(); ++i)
                    args.push_back({t.ref->keywords[i], t.ref->kids[i].get(), &fs[m]->origin});
                std::string text = call(b, callables_[callee], args, fs[m]->origin, t.ref->column, true);
                std::string count = times(repeat, repeat_level, t.coef, t.level);
                calls[m].push_back((count.empty() ? "" : "repeat " + count + " ") + text);
            }
        }
        for (int m = 1; m < 3; ++m) {
            if (calls[m] != calls[0]) {
                const Formula& f = *fs[m];
                std::size_t col = lins[m].terms.empty() ? 1 : lins[m].terms[0].ref->column;
                throw ImportError(f.origin.file, f.origin.json_path, col,
                                  "its references differ from those of flops (" +
                                      std::to_string(calls[0].size()) + " vs " + std::to_string(calls[m].size()) +
                                      " calls, or other arguments or factors)",
                                  f.origin.text,
                                  "a reference is one call counting all metrics: flops, read and write must reference the same "
                                  "modules with the same arguments and factors");
            }
        }
        b.flush_lets();
        for (std::size_t i = 0; i < calls[0].size(); ++i) {
            std::string label = b.label(slug(e.operation));
            b.lines.push_back("  " + label + ": " + calls[0][i]);
        }
        bool counted = !calls[0].empty();
        for (int m = 0; m < 3; ++m) {
            if (lins[m].rest.empty() || lins[m].rest == "0") continue;
            std::string name = std::string(metric[m]) + "_" + fe.id;
            std::string value = times(repeat, repeat_level, lins[m].rest, lins[m].level);
            b.lines.push_back("  let " + name + " = " + value);
            sums[m].push_back(name);
            counted = true;
        }
        if (!counted) b.lines.push_back("  #   " + indent + "(no cost)");
    }
    b.lines.push_back("");
    for (int m = 0; m < 3; ++m) {
        if (sums[m].empty()) continue;
        // Long sums (an exported model) go one term per line.
        std::string sep = sums[m].size() > 8 ? "\n      + " : " + ";
        b.lines.push_back("  " + std::string(metric[m]) + " = " + join(sums[m], sep));
    }
    (void)c;
}

// The free names of a formula in order of first use (not config keys, not class names).
void free_names(const Node& n, std::vector<std::string>& out) {
    std::vector<const Node*> todo{&n};
    while (!todo.empty()) {
        const Node* x = todo.back();
        todo.pop_back();
        if (x->kind == Kind::name && !contains(out, x->text)) out.push_back(x->text);
        for (auto it = x->kids.rbegin(); it != x->kids.rend(); ++it) todo.push_back(it->get());
    }
}

void refs_of(const Node& n, std::vector<const Node*>& out) {
    std::vector<const Node*> todo{&n};
    while (!todo.empty()) {
        const Node* x = todo.back();
        todo.pop_back();
        if (x->kind == Kind::ref) out.push_back(x);
        for (auto it = x->kids.rbegin(); it != x->kids.rend(); ++it) todo.push_back(it->get());
    }
}

std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

WriteResult Writer::run() {
    const auto& defs = in_.definitions;
    std::size_t n = defs.size();
    // Kernel names and files.
    std::map<std::string, std::size_t> taken;
    for (std::size_t i = 0; i < n; ++i) {
        Callable c;
        c.display = defs[i].kind == DefKind::model ? "model " + defs[i].name : "${" + defs[i].name + "}";
        std::string name = defs[i].name;
        if (defs[i].kind == DefKind::model) std::replace(name.begin(), name.end(), '/', '.');
        c.kernel = kernel_name_for(name);
        c.file = c.kernel + ".cost";
        if (c.file == "lmp_prelude.cost")
            throw ImportError(defs[i].file, "$", 0, "'" + defs[i].name + "' would overwrite lmp_prelude.cost, the file costi import writes for itself");
        auto [it, fresh] = taken.emplace(c.kernel, i);
        if (!fresh)
            throw ImportError(defs[i].file, "$", 0,
                              "'" + defs[i].name + "' and '" + defs[it->second].name + "' both become kernel " + c.kernel);
        callables_.push_back(std::move(c));
    }
    // The graph of references, and each definition's own signature.
    std::vector<std::vector<std::size_t>> callees(n);
    struct EdgeAt {
        std::string file, path;
        std::size_t col;
        std::string text;
    };
    std::map<std::pair<std::size_t, std::size_t>, EdgeAt> edge_at;
    auto edge = [&](std::size_t from, std::size_t to, EdgeAt at) {
        if (to >= n) return;  // a library kernel: defined already
        if (std::find(callees[from].begin(), callees[from].end(), to) == callees[from].end()) callees[from].push_back(to);
        edge_at.emplace(std::make_pair(from, to), std::move(at));
    };
    for (std::size_t i = 0; i < n; ++i) {
        const Definition& d = defs[i];
        Sig& s = callables_[i].sig;
        switch (d.kind) {
            case DefKind::leaf:
                s.order = d.leaf.init_params;
                s.order.insert(s.order.end(), d.leaf.forward_params.begin(), d.leaf.forward_params.end());
                s.params = s.order;
                break;
            case DefKind::composite:
                s.order = d.composite.init_params;
                s.order.insert(s.order.end(), d.composite.forward_params.begin(), d.composite.forward_params.end());
                s.params = s.order;
                for (const Child& ch : d.composite.children)
                    edge(i, resolve_def(ch.kernel, d.file, ch.json_path + ".kernel", 0, ""), {d.file, ch.json_path + ".kernel", 0, ""});
                break;
            case DefKind::module: {
                s.propagates = true;
                for (const FlatEntry& fe : flatten(d.module.entries)) {
                    const Entry& e = *fe.entry;
                    std::vector<const Formula*> fs;
                    if (e.repeat) fs.push_back(&*e.repeat);
                    if (e.sub_kernels.empty()) fs.insert(fs.end(), {&e.flops, &e.read, &e.write});
                    for (const Formula* f : fs) {
                        free_names(*f->ast, s.order);
                        std::vector<const Node*> refs;
                        refs_of(*f->ast, refs);
                        for (const Node* r : refs)
                            edge(i, resolve_def(r->text, d.file, f->origin.json_path, r->column, f->origin.text),
                                 {d.file, f->origin.json_path, r->column, f->origin.text});
                    }
                }
                for (const auto& p : s.order)
                    if (runtime_set().count(p) == 0) s.params.push_back(p);
                break;
            }
            case DefKind::model: {
                s.propagates = true;
                const auto& layers = d.model.layers;
                std::vector<std::size_t>& lib = library_layers_[i];
                lib.assign(layers.size(), none_);
                std::vector<bool>& under = library_inner_[i];  // inside a container the library costs
                under.assign(layers.size(), false);
                // Layers are in pre-order: a container comes before its sub_layers.
                for (std::size_t k = 0; k < layers.size(); ++k) {
                    const Layer& l = layers[k];
                    if (under[k]) {
                        for (std::size_t sub : l.sub_layers) under[sub] = true;
                        continue;
                    }
                    if (l.container && !input_def(l.cls)) {
                        auto found = library_match(l.cls);
                        if (found && !found->kernel->calls.empty()) {
                            lib[k] = library_callable(l.cls, *found, d.file, l.json_path + ".class");
                            warnings_.insert(d.file + ": " + l.json_path + ": layer '" + l.name +
                                             "' is costed as costi's $" + found->kernel->name +
                                             ": its whole forward, with its sub-modules bound from the config, "
                                             "not the sum of its " + std::to_string(l.sub_layers.size()) + " sub_layers");
                            check_sub_layers(d, k, *found->kernel);
                            for (std::size_t sub : l.sub_layers) under[sub] = true;
                        }
                    }
                    if (!l.container) edge(i, resolve_def(l.cls, d.file, l.json_path + ".class", 0, ""), {d.file, l.json_path + ".class", 0, ""});
                    if (l.repeat) free_names(*l.repeat->ast, s.order);
                }
                for (const auto& p : s.order)
                    if (runtime_set().count(p) == 0) s.params.push_back(p);
                break;
            }
        }
    }
    // A written file that calls costi's library imports it, and one program cannot hold an
    // imported definition and a library kernel or alias of the same name: when the library is
    // used, such a definition is written as `lmp.NAME`.
    if (!library_index_.empty()) {
        for (std::size_t i = 0; i < n; ++i) {
            Callable& c = callables_[i];
            if (defs[i].kind == DefKind::model || !Library::get().defines(c.kernel)) continue;
            std::string renamed = "lmp." + c.kernel;
            if (!taken.emplace(renamed, i).second)
                throw ImportError(defs[i].file, "$", 0, "'" + defs[i].name + "' would become kernel " + renamed + ", which another definition is");
            warnings_.insert(defs[i].file + ": $: '" + defs[i].name + "' is written as kernel " + renamed +
                             ": costi's library, which this import calls, defines " + c.kernel + " too");
            c.kernel = renamed;
            c.file = renamed + ".cost";
        }
    }
    // Callees before callers (Kahn's algorithm); what is left holds a cycle.
    std::vector<std::size_t> pending(n, 0);
    std::vector<std::vector<std::size_t>> callers(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c : callees[i]) {
            ++pending[i];
            callers[c].push_back(i);
        }
    std::vector<std::size_t> ready, order;
    for (std::size_t i = 0; i < n; ++i)
        if (pending[i] == 0) ready.push_back(i);
    while (!ready.empty()) {
        std::size_t i = ready.back();
        ready.pop_back();
        order.push_back(i);
        for (std::size_t c : callers[i])
            if (--pending[c] == 0) ready.push_back(c);
    }
    if (order.size() < n) {
        std::size_t start = 0;
        while (pending[start] == 0) ++start;
        std::vector<std::size_t> path{start};
        std::vector<int> seen(n, -1);
        seen[start] = 0;
        for (;;) {
            std::size_t at = path.back();
            std::size_t next = 0;
            for (std::size_t c : callees[at])
                if (pending[c] != 0) {
                    next = c;
                    break;
                }
            if (seen[next] >= 0) {
                std::vector<std::string> names;
                for (std::size_t k = static_cast<std::size_t>(seen[next]); k < path.size(); ++k) names.push_back(defs[path[k]].name);
                names.push_back(defs[next].name);
                const EdgeAt& e = edge_at.at({path.back(), next});
                throw ImportError(e.file, e.path, e.col, "reference cycle: " + join(names, " -> "), e.text,
                                  "a module cannot contain itself");
            }
            seen[next] = static_cast<int>(path.size());
            path.push_back(next);
        }
    }
    WriteResult result;
    for (std::size_t i : order) {
        const Definition& d = defs[i];
        Callable& c = callables_[i];
        std::vector<std::string> head = {"# Imported by `costi import` from " + base_name(d.file) +
                                         " (the predecessor's " +
                                         (d.kind == DefKind::leaf        ? "leaf kernel"
                                          : d.kind == DefKind::composite ? "composite kernel"
                                          : d.kind == DefKind::module    ? "module analysis"
                                                                         : "model layer tree") +
                                         " " + d.name + ").",
                                         "# Every formula is translated exactly, with Python's meaning (docs/import.md)."};
        std::string text;
        Body body{*this, c, d.file, {}, {}, 0, {}, {}, {}};
        std::string doc;
        std::vector<std::string> sources;
        std::vector<std::string> pre;
        if (d.kind == DefKind::leaf) {
            doc = "the predecessor's leaf kernel " + d.name;
            const char* metric[3] = {"flops", "read", "write"};
            const Formula* fs[3] = {&d.leaf.flops, &d.leaf.read, &d.leaf.write};
            std::vector<std::string> assigns;
            for (int m = 0; m < 3; ++m) {
                std::string v = body.expr(*fs[m]->ast, fs[m]->origin);
                body.flush_lets();
                if (v != "0") body.lines.push_back("  " + std::string(metric[m]) + " = " + v);
            }
            text = kernel_text(c, body, doc, sources, pre);
        } else if (d.kind == DefKind::composite) {
            doc = "the predecessor's composite kernel " + d.name;
            write_composite(d, c, body);
            text = kernel_text(c, body, doc, sources, pre);
        } else if (d.kind == DefKind::module) {
            doc = "the predecessor's module analysis of " + d.name + " (" + std::to_string(d.module.entries.size()) +
                  " kernels)";
            for (const FlatEntry& fe : flatten(d.module.entries))
                for (const auto& r : line_refs(fe.entry->analysis))
                    sources.push_back(r + " (as kernels[" + fe.id + "]'s analysis cites it)");
            write_module(d, c, body);
            text = kernel_text(c, body, doc, sources, pre);
        } else {
            // A model: one kernel per container layer, the deepest first, then the root.
            const ModelTree& t = d.model;
            std::vector<Callable> containers(t.layers.size());
            std::vector<std::string> kernels_text;
            std::vector<std::string> paths(t.layers.size());
            for (std::size_t k = 0; k < t.layers.size(); ++k) {
                const Layer& l = t.layers[k];
                if (paths[k].empty()) paths[k] = c.kernel + "." + identifier(l.name);
                for (std::size_t s : l.sub_layers) paths[s] = paths[k] + "." + identifier(t.layers[s].name);
            }
            auto emit_calls = [&](Body& b, const std::vector<std::size_t>& subs) {
                const std::vector<std::size_t>& lib = library_layers_[i];
                for (std::size_t s : subs) {
                    const Layer& l = t.layers[s];
                    bool by_library = lib[s] != none_;
                    const Callable& callee = by_library    ? callables_[lib[s]]
                                             : l.container ? containers[s]
                                                           : callables_[resolve_def(l.cls, d.file, l.json_path + ".class", 0, "")];
                    Origin at{d.file, l.json_path, ""};
                    std::string count;
                    if (l.repeat) count = b.expr(*l.repeat->ast, l.repeat->origin);
                    std::string call_text = call(b, callee, {}, at, 0, false);
                    b.flush_lets();
                    if (by_library)
                        b.lines.push_back("  # " + l.name + ": " + l.cls + " (a container costed by costi's library: its whole forward)");
                    else if (l.container)
                        b.lines.push_back("  # " + l.name + ": " + l.cls + " (a container: the sum of its sub_layers)");
                    std::string label = b.label(label_of(l.name));
                    b.lines.push_back("  " + label + ": " + (count.empty() || count == "1" ? "" : "repeat " + count + " ") + call_text);
                }
            };
            std::set<std::string> imports;
            for (std::size_t k = t.layers.size(); k-- > 0;) {
                const Layer& l = t.layers[k];
                // costed by the library, or inside such a layer: no container kernel
                if (!l.container || library_layers_[i][k] != none_ || library_inner_[i][k]) continue;
                Callable& cc = containers[k];
                cc.display = "layer " + l.name;
                cc.kernel = paths[k];
                cc.file = c.file;
                cc.sig.propagates = true;
                Body cb{*this, cc, d.file, {}, {}, 0, {}, {}, {}};
                emit_calls(cb, l.sub_layers);
                cc.sig.order = cc.sig.params;
                kernels_text.push_back(kernel_text(cc, cb, "layer " + l.name + " of " + d.name + ": " + l.cls, {}, {}));
                imports.insert(cb.imports.begin(), cb.imports.end());
                std::vector<std::string> ccp;
                for (const auto& p : cc.sig.params) ccp.push_back(costi_param(p));
                result.kernels.push_back({d.name + "/" + l.name, cc.kernel, cc.file, "layer", ccp, cc.sig.params});
            }
            emit_calls(body, t.roots);
            c.sig.order = c.sig.params;
            body.imports.insert(imports.begin(), imports.end());
            body.imports.erase(c.file);
            text = join(kernels_text, "\n") + (kernels_text.empty() ? "" : "\n") +
                   kernel_text(c, body, "the predecessor's model " + d.name + " as a layer tree", {}, {});
        }
        std::string file_text = join(head, "\n") + "\nimport \"lmp_prelude.cost\"\n";
        for (const auto& imp : body.imports)
            if (imp != c.file) file_text += "import " + quote(imp) + "\n";
        file_text += "\n" + text;
        result.files.push_back({c.file, file_text});
        std::vector<std::string> cp;
        for (const auto& p : c.sig.params) cp.push_back(costi_param(p));
        result.kernels.push_back({d.name, c.kernel, c.file,
                                  d.kind == DefKind::leaf        ? "leaf"
                                  : d.kind == DefKind::composite ? "composite"
                                  : d.kind == DefKind::module    ? "module"
                                                                 : "model",
                                  cp, c.sig.params});
    }
    result.files.push_back({"lmp_prelude.cost",
                            "# Written by `costi import`: what every imported file shares.\n"
                            "import \"stdlib/prelude.cost\"\n\n"
                            "runtime bytes: rational > 0 = 2 \"the predecessor's one element width for weights and "
                            "activations alike\"\n"});
    result.warnings.assign(warnings_.begin(), warnings_.end());
    return result;
}

}  // namespace

bool is_runtime_name(const std::string& name) { return runtime_set().count(name) != 0; }

std::string kernel_name_for(const std::string& name) {
    std::string out;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t dot = name.find('.', start);
        std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        out += (out.empty() ? "" : ".") + identifier(part);
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return out;
}

WriteResult write_cost_files(const Inputs& in, const WriteOptions& options) { return Writer(in, options).run(); }

}  // namespace costi::lmp
