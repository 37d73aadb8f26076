// The predecessor's leaf kernels next to costi's library.
#include "interpreter/lmp/compare.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "interpreter/evaluator.hpp"
#include "interpreter/session.hpp"

namespace costi::lmp {

namespace {

struct Shape {
    const char* what;
    std::vector<std::pair<const char*, const char*>> args;  // the predecessor's parameters
    const char* library;                                      // the same operation, in costi's library
};

struct Counterpart {
    const char* kernel;
    std::vector<Shape> shapes;
};

// Shapes of real models at 2 bytes per element: Llama-2-7B (hidden 4096, intermediate 11008,
// 32 heads of 128), Llama-3-8B (32 query heads, 8 KV heads), GPT-2 (hidden 768, 12 heads of
// 64, vocab 50257), a ResNet-50 stage (64 channels, 56 x 56, batch 32).
const std::vector<Counterpart>& table() {
    static const std::vector<Counterpart> t = {
        {"F.linear",
         {{"Llama-2-7B up_proj, prefill of 2048 tokens", {{"M", "2048"}, {"K", "4096"}, {"N", "11008"}, {"has_bias", "0"}},
           "$F.linear(M = 2048, K = 4096, N = 11008)"},
          {"GPT-2 c_attn as a Linear with bias, decode", {{"M", "1"}, {"K", "768"}, {"N", "2304"}, {"has_bias", "1"}},
           "$F.linear(M = 1, K = 768, N = 2304, has_bias = 1)"}}},
        {"torch.mm",
         {{"Llama-2-7B q_proj, prefill of 2048", {{"M", "2048"}, {"K", "4096"}, {"N", "4096"}},
           "$torch.mm(M = 2048, K = 4096, N = 4096)"}}},
        {"torch.matmul",
         {{"Llama-2-7B attention scores Q K^T, 32 heads, prefill of 2048", {{"M", "2048"}, {"K", "128"}, {"N", "2048"}},
           "$torch.matmul(M = 2048, K = 128, N = 2048, batch = 32)"},
          {"a plain 2-D matmul", {{"M", "64"}, {"K", "64"}, {"N", "64"}}, "$torch.matmul(M = 64, K = 64, N = 64)"}}},
        {"torch.bmm",
         {{"GPT-2 attention scores, 12 heads, 1024 tokens", {{"B", "12"}, {"M", "1024"}, {"K", "64"}, {"N", "1024"}},
           "$torch.bmm(batch = 12, M = 1024, K = 64, N = 1024)"}}},
        {"torch.addmm",
         {{"GPT-2 Conv1D c_attn (bias a vector of N), 1024 tokens", {{"M", "1024"}, {"K", "768"}, {"N", "2304"}},
           "$torch.addmm(M = 1024, K = 768, N = 2304)"}}},
        {"torch.baddbmm",
         {{"GPT-2 scores with a bias, 12 heads, 1024 tokens", {{"B", "12"}, {"M", "1024"}, {"K", "64"}, {"N", "1024"}},
           "$torch.baddbmm(batch = 12, M = 1024, K = 64, N = 1024)"}}},
        {"F.scaled_dot_product_attention",
         {{"Llama-2-7B (32 heads, MHA), prefill of 2048", {{"B", "1"}, {"H", "32"}, {"S_q", "2048"}, {"S_kv", "2048"}, {"D", "128"}},
           "$F.scaled_dot_product_attention(batch = 1, heads = 32, q_len = 2048, kv_len = 2048, head_dim = 128)"},
          {"Llama-3-8B (32 query heads, 8 KV heads: GQA), causal prefill of 2048",
           {{"B", "1"}, {"H", "32"}, {"S_q", "2048"}, {"S_kv", "2048"}, {"D", "128"}},
           "$F.scaled_dot_product_attention(batch = 1, heads = 32, q_len = 2048, kv_len = 2048, head_dim = 128, kv_heads = 8, "
           "is_causal = 1, count_masked = 0)"},
          {"Llama-3-8B decode: 1 query, 4096 cached", {{"B", "1"}, {"H", "32"}, {"S_q", "1"}, {"S_kv", "4096"}, {"D", "128"}},
           "$F.scaled_dot_product_attention(batch = 1, heads = 32, q_len = 1, kv_len = 4096, head_dim = 128, kv_heads = 8)"}}},
        {"F.softmax",
         {{"GPT-2 eager attention probabilities, 12 heads, 1024 tokens", {{"num_elements", "12582912"}}, "$F.softmax(N = 12582912)"}}},
        {"F.silu", {{"Llama-2-7B act_fn, prefill of 2048", {{"num_elements", "22544384"}}, "$F.silu(N = 22544384)"}}},
        {"F.gelu", {{"GPT-2 MLP activation, 1024 tokens", {{"num_elements", "3145728"}}, "$F.gelu(N = 3145728)"}}},
        {"F.relu", {{"ResNet-50 stage 1 ReLU", {{"num_elements", "6422528"}}, "$F.relu(N = 6422528)"}}},
        {"F.relu6", {{"MobileNet-style ReLU6", {{"num_elements", "6422528"}}, "$F.relu6(N = 6422528)"}}},
        {"F.elu", {{"an ELU on 2^20 elements", {{"num_elements", "1048576"}}, "$F.elu(N = 1048576)"}}},
        {"F.leaky_relu", {{"a LeakyReLU on 2^20 elements", {{"num_elements", "1048576"}}, "$F.leaky_relu(N = 1048576)"}}},
        {"F.prelu", {{"a PReLU on 2^20 elements, one weight", {{"num_elements", "1048576"}}, "$F.prelu(N = 1048576)"}}},
        {"torch.add", {{"Llama-2-7B residual add, prefill of 2048", {{"num_elements", "8388608"}}, "$torch.add(N = 8388608)"}}},
        {"torch.mul", {{"Llama-2-7B gate * up, prefill of 2048", {{"num_elements", "22544384"}}, "$torch.mul(N = 22544384)"}}},
        {"torch.div", {{"GPT-2 scores / sqrt(head_dim), 1024 tokens", {{"num_elements", "12582912"}}, "$torch.div(N = 12582912)"}}},
        {"F.dropout", {{"dropout at inference", {}, "$F.dropout()"}}},
        {"F.layer_norm",
         {{"GPT-2 ln_1, 1024 tokens", {{"num_elements", "786432"}, {"norm_size", "768"}, {"has_affine", "1"}},
           "$F.layer_norm(M = 1024, N = 768)"}}},
        {"F.embedding",
         {{"Llama-2-7B embed_tokens, prefill of 2048", {{"num_lookups", "2048"}, {"embed_dim", "4096"}},
           "$F.embedding(M = 2048, V = 32000, D = 4096)"}}},
        {"F.batch_norm",
         {{"ResNet-50 stage 1 BatchNorm, inference", {{"num_elements", "6422528"}, {"num_features", "64"}, {"has_affine", "1"}, {"training", "0"}},
           "$F.batch_norm(N = 6422528, C = 64)"}}},
        {"F.group_norm",
         {{"GroupNorm of 32 groups, 64 channels", {{"num_elements", "6422528"}, {"num_groups", "32"}, {"has_affine", "1"}},
           "$F.group_norm(N = 6422528, C = 64, groups = 32, batch = 32)"}}},
        {"F.instance_norm",
         {{"InstanceNorm, 64 channels, batch 32", {{"num_elements", "6422528"}, {"has_affine", "0"}},
           "$F.instance_norm(N = 6422528, C = 64, batch = 32)"}}},
    };
    return t;
}

std::vector<interp::Number> totals(interp::Session& s, const std::string& model, std::vector<int>& slots) {
    interp::CostNode root = s.totals(s.pick_model(model), interp::Overrides{});
    const auto& metrics = s.program().metrics;
    if (slots.empty()) {
        for (const char* m : {"flops", "read", "write"}) {
            int at = -1;
            for (std::size_t i = 0; i < metrics.size(); ++i)
                if (metrics[i].name == m) at = static_cast<int>(i);
            slots.push_back(at);
        }
    }
    std::vector<interp::Number> out;
    for (int at : slots) {
        auto i = static_cast<std::size_t>(at);
        out.push_back(at < 0 ? interp::Number(0) : interp::total_of(metrics[i], root.count, root.cost[i]));
    }
    return out;
}

}  // namespace

Comparison compare_with_library(const WriteResult& written, const std::string& dir) {
    Comparison out;
    std::string imported_text, library_text = "import \"stdlib/all.cost\"\n";
    struct Pending {
        std::string kernel, library, shape, model;
    };
    std::vector<Pending> pending;
    std::string runtime = std::string(compare_runtime);
    std::string runtime_lines;
    for (std::size_t p = 0; p <= runtime.size();) {
        std::size_t c = runtime.find(", ", p);
        runtime_lines += "  " + runtime.substr(p, c == std::string::npos ? std::string::npos : c - p) + "\n";
        if (c == std::string::npos) break;
        p = c + 2;
    }
    std::string library_runtime;  // the library declares no `bytes`
    for (const auto& line : {"  batch_size = 1\n", "  seq_len = 1\n", "  cache_len = 0\n", "  a_bytes = 2\n", "  w_bytes = 2\n"})
        library_runtime += line;
    std::vector<const WriteResult::Kernel*> leaves;
    for (const auto& k : written.kernels)
        if (k.kind == "leaf") leaves.push_back(&k);
    std::sort(leaves.begin(), leaves.end(), [](auto* a, auto* b) { return a->definition < b->definition; });
    for (const WriteResult::Kernel* kp : leaves) {
        const auto& k = *kp;
        const Counterpart* c = nullptr;
        for (const auto& t : table())
            if (k.definition == t.kernel) c = &t;
        if (c == nullptr) {
            out.unmatched.push_back(k.definition);
            continue;
        }
        imported_text += "import \"" + k.file + "\"\n";
        for (const Shape& s : c->shapes) {
            std::string model = "s" + std::to_string(pending.size());
            std::string args;
            for (std::size_t i = 0; i < k.original_params.size(); ++i) {
                const char* value = nullptr;
                for (const auto& [name, v] : s.args)
                    if (k.original_params[i] == name) value = v;
                if (value == nullptr) {
                    out.unmatched.push_back(k.definition + " (its parameter '" + k.original_params[i] +
                                            "' is not the library's counterpart's)");
                    args.clear();
                    break;
                }
                args += std::string(args.empty() ? "" : ", ") + k.params[i] + " = " + value;
            }
            if (args.empty() && !k.original_params.empty()) break;
            imported_text += "model " + model + " = $" + k.kernel + "(" + args + ") {\n" + runtime_lines + "}\n";
            library_text += "model " + model + " = " + s.library + " {\n" + library_runtime + "}\n";
            pending.push_back({k.definition, s.library, s.what, model});
        }
    }
    if (pending.empty()) return out;
    std::filesystem::path driver = std::filesystem::path(dir) / ".compare.cost";
    {
        std::ofstream o(driver, std::ios::binary);
        o << imported_text;
    }
    interp::Session imported, library;
    try {
        imported.load_file(driver.string());
    } catch (...) {
        std::filesystem::remove(driver);
        throw;
    }
    std::filesystem::remove(driver);
    library.load_text("<library counterparts>", library_text);
    std::vector<int> si, sl;
    const char* metric[3] = {"flops", "read", "write"};
    for (const auto& p : pending) {
        auto a = totals(imported, p.model, si);
        auto b = totals(library, p.model, sl);
        for (int m = 0; m < 3; ++m) out.rows.push_back({p.kernel, p.library, p.shape, metric[m], a[static_cast<std::size_t>(m)], b[static_cast<std::size_t>(m)]});
    }
    return out;
}

}  // namespace costi::lmp
