// Exact reading of config.json through nlohmann's SAX interface.
#include "interpreter/config_json.hpp"

#include <nlohmann/json.hpp>

#include "interpreter/diagnostics.hpp"
#include "interpreter/text_file.hpp"

namespace costi::interp {

namespace {

// Collects leaf values under their dotted path. Container depth is bounded (see below).
class Flattener : public nlohmann::json_sax<nlohmann::json> {
public:
    ConfigEntries entries;
    std::string error;
    bool top_is_object = false;

    bool null() override { return leaf(Value{}); }
    bool boolean(bool v) override { return leaf(Value::of(v ? 1 : 0)); }
    bool number_integer(number_integer_t v) override { return leaf(Value::of(static_cast<std::int64_t>(v))); }
    bool number_unsigned(number_unsigned_t v) override {
        auto n = Number::parse(std::to_string(v));
        return leaf(Value::of(*n));
    }
    bool number_float(number_float_t, const string_t& text) override {
        auto n = Number::parse(text);
        if (!n) {
            error = "number " + text + " cannot be read exactly";
            return false;
        }
        return leaf(Value::of(std::move(*n)));
    }
    bool string(string_t& v) override { return leaf(Value::of_string(v)); }
    bool binary(binary_t&) override { return leaf(Value{}); }
    bool start_object(std::size_t) override { return open(false); }
    bool key(string_t& k) override {
        frames_.back().key = k;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(true); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        error = "invalid JSON at byte " + std::to_string(position) + ": " + ex.what();
        return false;
    }

private:
    struct Frame {
        std::string prefix;
        bool array = false;
        std::size_t index = 0;
        std::string key;
    };
    std::vector<Frame> frames_;

    // JSON nested deeper than this is no model config; refusing it bounds memory and time.
    static constexpr std::size_t max_depth = 64;

    std::string path() {
        Frame& f = frames_.back();
        std::string part = f.array ? std::to_string(f.index++) : f.key;
        return f.prefix.empty() ? part : f.prefix + "." + part;
    }
    bool leaf(Value v) {
        if (frames_.empty()) {
            error = "the top level must be an object";
            return false;
        }
        std::string p = path();
        if (!v.is_absent()) entries.emplace_back(std::move(p), std::move(v));
        return true;
    }
    bool open(bool array) {
        if (frames_.empty()) {
            if (array) {
                error = "the top level must be an object";
                return false;
            }
            top_is_object = true;
            frames_.push_back({"", false, 0, ""});
            return true;
        }
        if (frames_.size() >= max_depth) {
            error = "nested too deeply";
            return false;
        }
        std::string p = path();
        frames_.push_back({p, array, 0, ""});
        return true;
    }
    bool close() {
        frames_.pop_back();
        return true;
    }
};

}  // namespace

ConfigEntries parse_config_json(const std::string& text, const std::string& name, const Span& site) {
    Flattener f;
    bool ok = nlohmann::json::sax_parse(text, &f, nlohmann::json::input_format_t::json, true);
    if (!ok || !f.top_is_object) {
        std::string why = f.error.empty() ? "the top level must be an object" : f.error;
        throw CostiError(Diagnostic{code::bad_json, site, "cannot read config '" + name + "': " + why, "", {}});
    }
    return std::move(f.entries);
}

// A config.json larger than this is refused: real ones are a few KB (the largest, with
// id2label tables, well under 1 MB), and flattening costs memory per entry.
static constexpr std::uintmax_t max_config_bytes = 8u << 20;

ConfigEntries read_config_json(const std::string& path, const Span& site) {
    return parse_config_json(read_text_file(path, max_config_bytes, site, path, "a config.json"), path, site);
}

}  // namespace costi::interp
