// The compile stage against the interpreter on every shipped model (issue 10): for each
// models/*.cost under both executions (transformers and vllm), at randomized points of the
// free runtime variables — small values, values around 2^63 (where the 128-bit fast path
// overflows and must fall back to GMP), around 10^30 (beyond 64 bits from the start), exact
// fractions for the byte widths — the compiled form and the interpreter give identical
// exact Numbers for every metric of the totals and of every call down to depth 2, or the
// identical error (code, message, span, hint, chain).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "interpreter/compile/fast_eval.hpp"
#include "interpreter/session.hpp"

namespace {

using namespace costi::interp;

const int depth = 2;

std::string describe(const Diagnostic& d) {
    std::string out = d.code + " " + location(d.span) + " " + d.message + " | " + d.hint;
    for (const auto& f : d.chain) out += " | " + f.what + " " + location(f.span);
    return out;
}

std::string describe(const CostiError& e) {
    std::string out;
    for (const auto& d : e.diagnostics()) out += describe(d) + "\n";
    return out;
}

// The interpreter's values: per node (pre-order to `depth`), count then cost per metric.
void flatten(const CostNode& n, std::vector<Number>& out) {
    out.push_back(n.count);
    out.insert(out.end(), n.cost.begin(), n.cost.end());
    for (const auto& c : n.children) flatten(c, out);
}
// The compiled polynomials in the same order.
void flatten(const CompiledNode& n, std::vector<Poly>& out) {
    out.push_back(n.count);
    out.insert(out.end(), n.cost.begin(), n.cost.end());
    for (const auto& c : n.children) flatten(c, out);
}

// A value of runtime variable r's domain (or, now and then, just outside it). In a realistic
// point the lengths fit every model's context and block sizes are multiples of 16, so the
// models' requirements hold, and batch sizes and byte widths go up to 2^63 and 10^30 (where
// the fast path must overflow into GMP); otherwise anything: small, about 2^32, just under
// 2^63, about 10^30, fractions.
Number pick(const Runtime& r, bool realistic, std::mt19937_64& rng) {
    const Domain& d = r.domain;
    Number low = d.lower ? (d.lower_strict ? (d.integer ? d.lower->floor() + 1 : *d.lower + Number(1)) : d.lower->ceil())
                         : Number(0);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<std::int64_t> small(0, 5000);
    const Number e30 = *Number::parse("1e30");
    const Number near63 = Number(INT64_MAX) - Number(small(rng));
    Number v;
    if (realistic) {
        const std::string& n = r.name;
        int k = kind(rng);
        if (n == "cache_len" && k < 5) {  // half the points a prefill: an encoder (BERT) takes only these
            v = Number(0);
        } else if (n == "seq_len" || n == "cache_len") {
            v = low + Number(small(rng) % 500);
        } else if (n == "ep") {  // ep must equal tp: mostly off
            v = Number(k < 7 ? 1 : 2);
        } else if (n == "tp") {  // layouts as deployed: powers of two
            v = Number(std::int64_t{1} << (small(rng) % 4));
        } else if (n == "dp") {  // mostly one replica
            v = Number(k < 7 ? 1 : std::int64_t{1} << (small(rng) % 4));
        } else if (n == "block_size") {
            v = Number(16 * (1 + small(rng) % 4));
        } else if (n == "batch_size") {
            v = k < 5 ? low + Number(small(rng) % 64) : (k < 8 ? near63 : e30 + Number(small(rng)));
        } else if (!d.integer) {  // byte widths: mostly 16-bit, which every execution takes (MLA takes only it)
            const char* widths[] = {"1/2", "1", "2", "4", "3/4", "4.125/8"};
            v = k < 7 ? Number(2)
                      : (k < 8 ? *Number::parse(widths[small(rng) % 6]) : (k < 9 ? near63 : e30 + *Number::parse("1/3")));
        } else {
            v = low + Number(small(rng) % 3);
        }
    } else {
        switch (kind(rng)) {
            case 0:
            case 1:
            case 2:
            case 3:
                v = low + Number(small(rng));
                break;
            case 4:
                v = low;
                break;
            case 5:  // just under 2^63: fits int64, its products overflow 128 bits
                v = near63;
                break;
            case 6:
                v = e30 + Number(small(rng));
                break;
            case 7:
                v = d.integer ? low + Number(small(rng) % 7)
                              : *Number::divide(Number(small(rng) + 1), Number(small(rng) % 8 + 1));
                break;
            case 8:
                v = Number(std::int64_t{1} << 32) + Number(small(rng));
                break;
            default:
                v = low + Number(small(rng) % 3);
                break;
        }
    }
    if (d.upper && (d.upper_strict ? !(v < *d.upper) : !(v <= *d.upper)) && kind(rng) != 0)
        v = d.upper_strict ? d.upper->ceil() - 1 : d.upper->floor();
    return v;
}

struct Case {
    std::string model_file;
    std::string engine;
};

std::vector<Case> cases() {
    std::vector<Case> out;
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(COSTI_MODELS_DIR))
        if (e.path().extension() == ".cost") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        out.push_back({f, "transformers"});
        out.push_back({f, "vllm"});
    }
    return out;
}

class CompiledModels : public testing::TestWithParam<Case> {};

TEST_P(CompiledModels, AgreeWithTheInterpreterAtRandomPoints) {
    const Case& c = GetParam();
    Session s;
    s.load_file(c.model_file);
    s.load_file(std::string(COSTI_MODELS_DIR) + "/../kernels/vllm/vllm.cost");
    const Model& model = s.pick_model("");
    Overrides base;
    base.engine = c.engine;
    // The engine may not model this family yet: then both refuse alike, nothing to compile.
    try {
        s.entry_of(model, s.environment(model, base));
    } catch (const CostiError& e) {
        EXPECT_EQ(e.diagnostics().front().code, "E0118");
        EXPECT_THROW(s.compile(model, base, {}, depth), CostiError);
        return;
    }
    Compiled form = s.compile(model, base, {}, depth);
    const Program& p = s.program();
    std::vector<Poly> polys;
    for (std::uint32_t m = 0; m < p.metrics.size(); ++m) polys.push_back(form.total(m));
    flatten(form.root, polys);
    FastForm fast(form, polys);

    // Seeded by the file's name, not its path: the same points in every checkout.
    std::mt19937_64 rng(std::hash<std::string>{}(std::filesystem::path(c.model_file).filename().string() + c.engine));
    int agreed_values = 0, agreed_errors = 0;
    const int points = 90;
    for (int i = 0; i < points; ++i) {
        std::vector<Number> point;
        Overrides o = base;
        std::string where;
        bool realistic = i % 3 != 0;
        for (auto r : form.free) point.push_back(pick(p.runtimes[r], realistic, rng));
        if (realistic) {
            // A layout as deployed: ep 1 or the whole tp x dp group, a stage below pp.
            auto at = [&](const char* name) -> Number* {
                for (std::size_t k = 0; k < form.free.size(); ++k)
                    if (p.runtimes[form.free[k]].name == name) return &point[k];
                return nullptr;
            };
            Number one(1);
            Number *tp = at("tp"), *dp = at("dp"), *ep = at("ep"), *pp = at("pp"), *rank = at("pp_rank");
            if (ep != nullptr && *ep != one) *ep = (tp ? *tp : one) * (dp ? *dp : one);
            if (rank != nullptr) *rank = *Number::floor_divide(*rank, Number(1)) < (pp ? *pp : one) ? *rank : Number(0);
        }
        for (std::size_t k = 0; k < form.free.size(); ++k) {
            o.runtime.emplace_back(p.runtimes[form.free[k]].name, Value::of(point[k]));
            where += p.runtimes[form.free[k]].name + "=" + point[k].to_string() + " ";
        }
        // The interpreter.
        std::vector<Number> expected;
        std::string expected_error;
        try {
            CostNode root = s.run_in(model, s.environment(model, o), depth);
            for (std::uint32_t m = 0; m < p.metrics.size(); ++m)
                expected.push_back(total_of(p.metrics[m], root.count, root.cost[m]));
            flatten(root, expected);
        } catch (const CostiError& e) {
            expected_error = describe(e);
        }
        // The compiled form, fast path with its fallback.
        std::vector<Number> got;
        std::string got_error;
        try {
            fast.evaluate(point, got);
        } catch (const CostiError& e) {
            got_error = describe(e);
        }
        ASSERT_EQ(got_error, expected_error) << c.model_file << " " << c.engine << " at " << where;
        if (!expected_error.empty()) {
            ++agreed_errors;
            continue;
        }
        ASSERT_EQ(got.size(), expected.size()) << "the compiled tree has another shape";
        for (std::size_t j = 0; j < got.size(); ++j)
            ASSERT_EQ(got[j].to_string(), expected[j].to_string())
                << c.model_file << " " << c.engine << " value " << j << " at " << where;
        ++agreed_values;
    }
    // Many points lie in every domain and satisfy the models' requirements (the fewest for
    // DeepSeek-V3 under vLLM, whose MLA takes only 16-bit activations, ep only tp x dp and not
    // both tp and dp above 1 with it).
    EXPECT_GT(agreed_values, points / 6) << agreed_errors << " errors";
    EXPECT_EQ(fast.fast_points() + fast.exact_points(), static_cast<std::uint64_t>(points));
}

// With the byte widths fixed, integer points run on the 128-bit path; points near 2^63 and
// 10^30 overflow it and fall back to exact rationals; both agree with the interpreter.
TEST(CompiledModels, FastPathAndFallbackAgreeOnLlama3) {
    Session s;
    s.load_file(std::string(COSTI_MODELS_DIR) + "/llama-3-8b.cost");
    const Model& model = s.pick_model("");
    const Program& p = s.program();
    std::vector<std::uint32_t> free{*p.find_runtime("batch_size"), *p.find_runtime("seq_len"), *p.find_runtime("cache_len")};
    Compiled form = s.compile(model, {}, free);
    std::vector<Poly> totals;
    for (std::uint32_t m = 0; m < p.metrics.size(); ++m) totals.push_back(form.total(m));
    FastForm fast(form, totals);
    const Number e30 = *Number::parse("1e30");
    const std::vector<std::vector<Number>> points = {
        {1, 1, 0}, {1, 4096, 0}, {8, 1, 4095}, {64, 512, 7000}, {3, 2, 1},
        {Number(INT64_MAX), 1, 0}, {1, Number(INT64_MAX), Number(INT64_MAX) - Number(5)}, {e30, e30 + Number(7), e30}};
    for (const auto& point : points) {
        Overrides o;
        for (std::size_t i = 0; i < free.size(); ++i) o.runtime.emplace_back(p.runtimes[free[i]].name, Value::of(point[i]));
        CostNode root = s.totals(model, o);
        std::vector<Number> got;
        fast.evaluate(point, got);
        for (std::uint32_t m = 0; m < p.metrics.size(); ++m)
            EXPECT_EQ(got[m].to_string(), (root.count * root.cost[m]).to_string()) << p.metrics[m].name;
    }
    // batch_size 2^63 - 1 at one token: every total stays under 2^127, so that point is fast too.
    EXPECT_EQ(fast.fast_points(), 6u);
    EXPECT_EQ(fast.exact_points(), 2u);
}

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.model_file << " under " << c.engine;
}

INSTANTIATE_TEST_SUITE_P(Shipped, CompiledModels, testing::ValuesIn(cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                             std::string name = std::filesystem::path(info.param.model_file).stem().string() + "_" +
                                                info.param.engine;
                             for (char& ch : name)
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return name;
                         });

}  // namespace
