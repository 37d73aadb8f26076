// config.json: exact numbers, flattening, and errors.
#include "interpreter/config_json.hpp"

#include <gtest/gtest.h>

#include <map>

#include "interpreter/diagnostics.hpp"

using namespace costi::interp;

static std::map<std::string, std::string> flat(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : parse_config_json(text, "<json>", {})) out[k] = v.show();
    return out;
}

TEST(ConfigJson, FlattensExactly) {
    auto m = flat(R"({"a": 1, "eps": 1e-05, "f": 0.1, "t": true, "no": false, "n": null, "s": "silu",
                      "rope": {"factor": 8.0, "inner": {"x": 2}}, "arch": ["LlamaForCausalLM", "X"],
                      "big": 123456789012345678901234567890, "neg": -3})");
    std::map<std::string, std::string> expected = {
        {"a", "1"},
        {"eps", "1/100000"},
        {"f", "1/10"},
        {"t", "1"},
        {"no", "0"},
        {"s", "\"silu\""},
        {"rope.factor", "8"},
        {"rope.inner.x", "2"},
        {"arch.0", "\"LlamaForCausalLM\""},
        {"arch.1", "\"X\""},
        {"big", "123456789012345678901234567890"},
        {"neg", "-3"},
    };
    EXPECT_EQ(m, expected);  // null is absent
}

TEST(ConfigJson, RejectsBadInput) {
    for (const char* bad : {"", "[1, 2]", "{\"a\": }", "{\"a\": 1", "42", "{\"a\": 1} x"}) {
        try {
            parse_config_json(bad, "<json>", {});
            ADD_FAILURE() << "accepted: " << bad;
        } catch (const CostiError& e) {
            EXPECT_EQ(e.diagnostics().front().code, code::bad_json) << bad;
        }
    }
    std::string deep(100, '[');
    EXPECT_THROW(parse_config_json("{\"a\": " + deep + std::string(100, ']') + "}", "<json>", {}), CostiError);
}
