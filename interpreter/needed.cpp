// Which unread kernel bodies a program reaches, and reading them.
#include "interpreter/needed.hpp"

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "grammar/parse.hpp"

namespace costi::interp {

namespace {

// The names a program's declarations call, gathered into a work list. Names are views of
// the AST's strings: a kernel's statements do not move once its body is read.
class Reach {
public:
    void call(const ast::Call& c) {
        want(c.kernel);
        for (const auto& b : c.args) expr(b.value.get());
    }
    void bindings(const std::vector<ast::Binding>& list) {
        for (const auto& b : list) expr(b.value.get());
    }
    // An expression's kernel calls (a call as a value), walked with an explicit stack.
    void expr(const ast::Expr* root) {
        if (root == nullptr) return;
        std::vector<const ast::Expr*> stack{root};
        while (!stack.empty()) {
            const ast::Expr* e = stack.back();
            stack.pop_back();
            if (e->call) {
                want(e->call->kernel);
                for (const auto& b : e->call->args) stack.push_back(b.value.get());
            }
            for (const auto& a : e->args) stack.push_back(a.get());
        }
    }
    void body(const ast::Kernel& k) {
        for (const auto& p : k.params) expr(p.default_value.get());
        for (const auto& s : k.body) {
            expr(s.value.get());
            expr(s.count.get());
            if (s.kind == ast::StmtKind::child) call(s.call);
            bindings(s.with);
        }
    }
    void want(std::string_view name) {
        if (seen_.insert(name).second) todo.push_back(name);
    }
    std::vector<std::string_view> todo;

private:
    std::unordered_set<std::string_view> seen_;
};

}  // namespace

bool has_unread_bodies(const std::vector<ast::Module>& modules) {
    for (const auto& m : modules)
        for (const auto& k : m.kernels)
            if (k.unread_body) return true;
    return false;
}

void read_all_bodies(std::vector<ast::Module>& modules) {
    for (auto& m : modules)
        for (auto& k : m.kernels) grammar::parse_body(k);
}

void read_needed_bodies(std::vector<ast::Module>& modules, const std::function<bool(const std::string&)>& also_root) {
    if (!has_unread_bodies(modules)) return;
    std::unordered_map<std::string_view, ast::Kernel*> kernel_named;
    std::unordered_map<std::string_view, std::string_view> alias_target;
    std::unordered_map<std::string_view, std::vector<std::string_view>> runs_in_place;
    Reach reach;
    for (auto& m : modules) {
        for (auto& k : m.kernels) {
            if (!kernel_named.emplace(k.name, &k).second) return read_all_bodies(modules);
            if (!k.unread_body) reach.body(k);  // a read body is checked: it is a root
            if (k.unread_body && also_root && also_root(k.name)) reach.want(k.name);
        }
        for (const auto& a : m.aliases)
            if (!alias_target.emplace(a.name, a.target).second) return read_all_bodies(modules);
        for (const auto& k : m.every_leaf) reach.body(k);
        for (const auto& r : m.runtimes) {
            reach.expr(r.value.get());
            for (const auto& b : r.bounds) reach.expr(b.value.get());
        }
        for (const auto& md : m.models) {
            reach.call(md.entry);
            reach.bindings(md.config);
            reach.bindings(md.defaults);
        }
        // An engine's entry `from = to` needs `to` only when something reaches `from`: the
        // vLLM mapping of Mistral reads no Mistral body in a run of Llama.
        for (const auto& e : m.engines)
            for (const auto& entry : e.entries) runs_in_place[entry.name].push_back(entry.target);
        for (const auto& h : m.hardware)
            for (const auto& entry : h.entries) reach.expr(entry.value.get());
    }
    for (const auto& [name, target] : alias_target)  // an alias named as a kernel
        if (kernel_named.count(name) != 0) return read_all_bodies(modules);
    while (!reach.todo.empty()) {
        std::string_view name = reach.todo.back();
        reach.todo.pop_back();
        if (auto r = runs_in_place.find(name); r != runs_in_place.end())
            for (std::string_view target : r->second) reach.want(target);
        if (auto a = alias_target.find(name); a != alias_target.end()) {
            reach.want(a->second);
            continue;
        }
        auto k = kernel_named.find(name);
        if (k == kernel_named.end() || !k->second->unread_body) continue;  // unknown: the checker says so
        grammar::parse_body(*k->second);
        reach.body(*k->second);
    }
}

}  // namespace costi::interp
