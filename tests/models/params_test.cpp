// Every shipped model's parameter count equals the published figure for its checkpoint
// (the element count of the safetensors weights on the Hugging Face hub, as quoted in the
// issue), and the MoE models' active parameters equal the published per-token figures.
#include <cctype>
#include <ostream>

#include "model_support.hpp"

using namespace costi::models_test;

namespace {

struct Published {
    const char* file;           // models/<file>.cost
    const char* params;         // published parameter count
    const char* active_params;  // published active parameters per token (MoE), else nullptr
};

// Figures of the issue (hub model cards / safetensors metadata). Dense models use every
// weight for every token, so their active parameters equal their parameters.
const Published published[] = {
    {"gpt2", "124439808", nullptr},
    {"llama-2-7b", "6738415616", nullptr},
    {"llama-2-13b", "13015864320", nullptr},
    {"llama-2-70b", "68976648192", nullptr},
    {"llama-3-8b", "8030261248", nullptr},
    {"llama-3-70b", "70553706496", nullptr},
    {"llama-3.1-405b", "405853388800", nullptr},
    {"mistral-7b-v0.1", "7241732096", nullptr},
    {"mixtral-8x7b-v0.1", "46702792704", "12879925248"},
    {"qwen2-7b", "7615616512", nullptr},
    {"qwen2.5-72b", "72706203648", nullptr},
    {"gemma-2-9b", "9241705984", nullptr},
    {"phi-3-mini-4k-instruct", "3821079552", nullptr},
    {"deepseek-v3", "671026404352", "37552282624"},
};

void PrintTo(const Published& p, std::ostream* os) { *os << p.file; }

class ModelParams : public ::testing::TestWithParam<Published> {};

TEST_P(ModelParams, EqualThePublishedFigure) {
    const Published& p = GetParam();
    auto model = Loaded::shipped(p.file);
    EXPECT_EQ(model->total("params"), p.params);
}

TEST_P(ModelParams, ActiveParamsEqualThePublishedFigure) {
    const Published& p = GetParam();
    auto model = Loaded::shipped(p.file);
    EXPECT_EQ(model->total("active_params"), p.active_params != nullptr ? p.active_params : p.params);
}

// Parameters are weights: they do not depend on the step being costed.
TEST_P(ModelParams, DoNotDependOnTheStep) {
    const Published& p = GetParam();
    auto model = Loaded::shipped(p.file);
    Step step;
    step.batch = 3;
    step.seq = 17;
    step.cache = 40;
    step.eager = true;
    EXPECT_EQ(model->total("params", step), p.params);
}

std::string name_of(const ::testing::TestParamInfo<Published>& info) {
    std::string n;
    for (const char* c = info.param.file; *c != '\0'; ++c) n += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
    return n;
}

INSTANTIATE_TEST_SUITE_P(Shipped, ModelParams, ::testing::ValuesIn(published), name_of);

}  // namespace
