// costi as a library: load a model, set its runtime variables and config values, evaluate it
// exactly, and read its totals and its tree of calls (docs/library.md).
//
//   #include <costi/costi.hpp>
//   costi::Model gpt2 = costi::Model::load("gpt2");      // short name, declared name, .cost file or config.json
//   gpt2.set("seq_len", 1024);
//   costi::Result r = gpt2.evaluate();
//   std::string params = r.total("params").str();         // "124439808"
//
// Every number is exact: a Rational holds costi's canonical text ("124439808", "-7/2"), and
// converts to an integer or (on request) an approximate double. Every error is a costi::Error
// whose what() is the diagnostic the command line prints. find_package(costi) gives the
// target costi::costi (a shared library; CMake package config in lib/cmake/costi).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#define COSTI_API __attribute__((visibility("default")))

namespace costi {

// An exact rational number in costi's canonical text: "42", "-7/2" (lowest terms, the
// denominator positive, no "/1").
class COSTI_API Rational {
public:
    Rational() = default;
    // Canonical text as costi prints it (not checked; values come from the library).
    explicit Rational(std::string text) : text_(std::move(text)) {}

    const std::string& str() const { return text_; }
    bool is_integer() const { return text_.find('/') == std::string::npos; }
    std::string numerator() const { return text_.substr(0, text_.find('/')); }
    std::string denominator() const { return is_integer() ? "1" : text_.substr(text_.find('/') + 1); }
    // The value when it is an integer that fits in 64 bits.
    std::optional<std::int64_t> to_int64() const;
    // The nearest double: an approximation, for plotting; the exact value is str(). Throws
    // Error (empty code) when the text is not a rational (a Rational built by hand).
    double to_double() const;

    friend bool operator==(const Rational& a, const Rational& b) { return a.text_ == b.text_; }

private:
    std::string text_ = "0";
};

// An error costi reports: a file that does not parse or check, a model that does not exist,
// a runtime value outside its domain, a failed evaluation. what() is the rendered diagnostic
// as `costi run` prints it (location, source line and caret, hint, chain of calls).
class COSTI_API Error : public std::runtime_error {
public:
    Error(const std::string& rendered, std::string code) : std::runtime_error(rendered), code_(std::move(code)) {}
    // The first diagnostic's code ("E0002"; empty for an error of the library's use).
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

// One call of the evaluated tree: the model at the root, its calls below.
struct Node {
    std::string label;                       // the call's label ("model" at the root)
    std::string kernel;                      // the kernel it calls (empty for none)
    Rational count;                          // how often its parent makes the call
    std::map<std::string, Rational> cost;    // metric -> one call's cost
    std::map<std::string, Rational> total;   // metric -> count x cost (a peak metric: its cost)
    std::vector<Node> children;
};

// What an evaluation gives.
class COSTI_API Result {
public:
    const std::string& model() const { return model_; }
    // The program's metrics, in their declared order.
    const std::vector<std::string>& metrics() const { return metrics_; }
    // metric -> the whole run's total.
    const std::map<std::string, Rational>& totals() const { return root_.total; }
    // One metric's total. Throws Error for a metric the program does not declare.
    const Rational& total(const std::string& metric) const;
    // The tree of calls (only the root when evaluated with totals()).
    const Node& tree() const { return root_; }

private:
    friend class Model;
    std::string model_;
    std::vector<std::string> metrics_;
    Node root_;
};

// A model loaded with the library it needs, and the values it runs with.
class COSTI_API Model {
public:
    // `what` is a .cost file, a library model's short name ("llama-3-8b"), a declared name
    // ("meta-llama/Meta-Llama-3-8B") or a Hugging Face config.json (a path ending in .json;
    // its kernel from architectures[0]). A file declaring several models takes `model` to
    // choose one. Throws Error.
    static Model load(const std::string& what, const std::string& model = "");

    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    // The model's declared name ("openai-community/gpt2"), and the file that declares it
    // (empty for a model from a config.json).
    const std::string& name() const;
    std::string file() const;
    // The runtime variables the program declares (each has a default), and its metrics.
    std::vector<std::string> runtime_variables() const;
    std::vector<std::string> metrics() const;

    // Sets a runtime variable for the evaluations that follow: exact text ("4096", "0.5",
    // "9/16", "1e6") or an integer. Throws Error for an unknown variable, a malformed value
    // or one outside the variable's domain.
    Model& set(const std::string& variable, const std::string& value);
    Model& set(const std::string& variable, std::int64_t value);
    // Overrides a config value as `costi run --set config.KEY=VALUE` does (a number,
    // true/false, or text). Throws Error for a key nothing reads.
    Model& set_config(const std::string& key, const std::string& value);
    // Forgets every value set: the declared defaults again.
    Model& reset();

    // Evaluates the model, keeping `depth` levels of calls below it in the tree (-1: all).
    // Throws Error (with the chain of calls that failed).
    Result evaluate(int depth = -1) const;
    // The totals only (the tree is the root): faster for many evaluations.
    Result totals() const;

private:
    struct Impl;
    explicit Model(std::unique_ptr<Impl> impl);
    Result run(int depth) const;
    std::unique_ptr<Impl> impl_;
};

}  // namespace costi
