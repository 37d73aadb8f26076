// Evaluates library models through the installed costi library (include/costi/costi.hpp)
// and checks published figures; prints one line per check and exits 1 on the first failure.
#include <costi/costi.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace {

void expect(bool ok, const std::string& what) {
    std::cout << (ok ? "ok: " : "FAILED: ") << what << "\n";
    if (!ok) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string prefix = argc > 1 ? argv[1] : "";

    // GPT-2 (124M): 124,439,808 parameters, the count of its published checkpoint
    // (wte 50257x768 + wpe 1024x768 + 12 blocks of 7,087,872 + ln_f 1,536; lm_head tied).
    costi::Model gpt2 = costi::Model::load("gpt2");
    expect(gpt2.name() == "openai-community/gpt2", "declared name: " + gpt2.name());
    expect(prefix.empty() || gpt2.file().rfind(prefix, 0) == 0, "the installed library: " + gpt2.file());
    costi::Result r = gpt2.totals();
    expect(r.total("params").str() == "124439808", "gpt2 params " + r.total("params").str());
    expect(r.total("params").to_int64() == 124439808, "as an int64");
    expect(50257 * 768 + 1024 * 768 + 12 * 7087872 + 1536 == 124439808, "the published count's sum");

    // The tree: the whole run's total is the root's, and the root has calls below it.
    gpt2.set("seq_len", 1024).set("batch_size", 1);
    costi::Result tree = gpt2.evaluate();
    expect(!tree.tree().children.empty(), "the tree has calls below the model");
    expect(tree.total("params") == r.total("params"), "params do not depend on seq_len");

    // A config override as `--set config.n_layer=6`: six blocks of 7,087,872 fewer.
    gpt2.set_config("config.n_layer", "6");
    expect(gpt2.totals().total("params").str() == std::to_string(124439808 - 6 * 7087872), "gpt2 with 6 layers");
    gpt2.reset();
    expect(gpt2.totals().total("params").str() == "124439808", "reset: the declared config again");

    // Meta-Llama-3-8B: 8,030,261,248 parameters (its model card's 8.03B, exactly).
    costi::Model llama = costi::Model::load("meta-llama/Meta-Llama-3-8B");
    expect(llama.totals().total("params").str() == "8030261248", "llama-3-8b params");

    // Errors carry the rendered diagnostic.
    try {
        costi::Model::load("gpt3");
        expect(false, "an unknown model throws");
    } catch (const costi::Error& e) {
        std::string what = e.what();
        expect(e.code() == "E0002" && what.find("did you mean 'gpt2'?") != std::string::npos,
               "unknown model: [" + e.code() + "] " + what);
    }
    try {
        gpt2.set("seq_len", -4);
        expect(false, "a value outside the domain throws");
    } catch (const costi::Error& e) {
        expect(std::string(e.what()).find("seq_len") != std::string::npos, std::string("domain: ") + e.what());
    }
    try {
        (void)r.total("flop");
        expect(false, "an unknown metric throws");
    } catch (const costi::Error& e) {
        expect(std::string(e.what()).find("did you mean 'flops'?") != std::string::npos, std::string("metric: ") + e.what());
    }
    std::cout << "costi library ok\n";
    return 0;
}
