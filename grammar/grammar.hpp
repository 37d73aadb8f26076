// The PEGTL grammar of the cost language (PEGTL 3.2), one rule per line.
//
// Owns: what text is a well-formed .cost file, REPL line or expression (the expressions
// themselves: expression.hpp). Commit points are `expect<R>` rules: once the parser is
// inside a construct, failing R is a hard error whose message comes from errors.hpp.
// Does not own: building the AST (the actions of parse.cpp) or meaning.
#pragma once

#include <cstring>

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze_traits.hpp>

namespace costi::grammar {

namespace pegtl = tao::pegtl;
using namespace tao::pegtl;  // NOLINT(google-build-using-namespace): rule vocabulary

// A commit point: failing R here raises the message errors.hpp gives for R.
template <typename R> struct expect : must<R> {};

// ---- lexical ----
// The hot tokens (blanks and comments, names, strings) are written as PEGTL rules, which
// say what they match and what analyze() checks, and matched by a plain loop: a third of
// the library's bytes are comments, and a rule per character was the largest cost of parsing.
struct comment : seq<one<'#'>, until<eolf>> {};
struct blank : sor<space, comment> {};
struct ws : star<blank> {
    template <apply_mode, rewind_mode, template <typename...> class, template <typename...> class, typename ParseInput,
              typename... States>
    static bool match(ParseInput& in, States&&... /*unused*/) {
        const char* p = in.current();
        const char* end = in.end();
        while (p != end) {
            char c = *p;
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
                ++p;
            } else if (c == '#') {
                const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
                p = nl == nullptr ? end : static_cast<const char*>(nl) + 1;
            } else {
                break;
            }
        }
        in.bump(static_cast<std::size_t>(p - in.current()));
        return true;
    }
};
struct ident_first : ranges<'a', 'z', 'A', 'Z', '_'> {};
struct ident_other : ranges<'a', 'z', 'A', 'Z', '0', '9', '_'> {};
struct identifier : seq<ident_first, star<ident_other>> {
    template <apply_mode, rewind_mode, template <typename...> class, template <typename...> class, typename ParseInput,
              typename... States>
    static bool match(ParseInput& in, States&&... /*unused*/) {
        auto first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
        const char* p = in.current();
        const char* end = in.end();
        if (p == end || !first(*p)) return false;
        ++p;
        while (p != end && (first(*p) || (*p >= '0' && *p <= '9'))) ++p;
        in.bump(static_cast<std::size_t>(p - in.current()));
        return true;
    }
};
template <typename Str> struct key : seq<Str, not_at<ident_other>> {};

struct kw_and : key<TAO_PEGTL_STRING("and")> {};
struct kw_or : key<TAO_PEGTL_STRING("or")> {};
struct kw_not : key<TAO_PEGTL_STRING("not")> {};
struct kw_if : key<TAO_PEGTL_STRING("if")> {};
struct kw_then : key<TAO_PEGTL_STRING("then")> {};
struct kw_else : key<TAO_PEGTL_STRING("else")> {};
struct kw_true : key<TAO_PEGTL_STRING("true")> {};
struct kw_false : key<TAO_PEGTL_STRING("false")> {};
struct kw_config : key<TAO_PEGTL_STRING("config")> {};
struct kw_from : key<TAO_PEGTL_STRING("from")> {};
struct kw_repeat : key<TAO_PEGTL_STRING("repeat")> {};
struct kw_with : key<TAO_PEGTL_STRING("with")> {};
struct kw_let : key<TAO_PEGTL_STRING("let")> {};
struct kw_source : key<TAO_PEGTL_STRING("source")> {};
struct kw_doc : key<TAO_PEGTL_STRING("doc")> {};
struct kw_import : key<TAO_PEGTL_STRING("import")> {};
struct kw_metric : key<TAO_PEGTL_STRING("metric")> {};
struct kw_runtime : key<TAO_PEGTL_STRING("runtime")> {};
struct kw_kernel : key<TAO_PEGTL_STRING("kernel")> {};
struct kw_alias : key<TAO_PEGTL_STRING("alias")> {};
struct kw_model : key<TAO_PEGTL_STRING("model")> {};
struct kw_unit : key<TAO_PEGTL_STRING("unit")> {};
struct kw_require : key<TAO_PEGTL_STRING("require")> {};
struct kw_property : key<TAO_PEGTL_STRING("property")> {};
struct kw_hardware : key<TAO_PEGTL_STRING("hardware")> {};
struct kw_every : key<TAO_PEGTL_STRING("every")> {};
struct kw_leaf : key<TAO_PEGTL_STRING("leaf")> {};
struct kw_engine : key<TAO_PEGTL_STRING("engine")> {};
struct reserved : sor<kw_and, kw_or, kw_not, kw_if, kw_then, kw_else, kw_true, kw_false> {};

struct name : seq<not_at<reserved>, identifier> {};
struct qname : seq<identifier, star<one<'.'>, identifier>> {};
// Config keys follow the JSON: objects by name, lists by index (weight_block_size.0).
struct dotted_key : seq<identifier, star<one<'.'>, sor<identifier, plus<digit>>>> {};

struct escaped_char : one<'"', '\\', 'n', 't'> {};
struct escape : seq<one<'\\'>, expect<escaped_char>> {};
struct string_char : sor<escape, not_one<'"', '\n', '\\'>> {};
struct string_body : star<string_char> {};
struct string_close : one<'"'> {};
// Matched (and unescaped) by the state's string_literal(), which raises the messages of
// escaped_char and string_close where this rule would.
struct string_lit : seq<one<'"'>, string_body, expect<string_close>> {
    template <apply_mode, rewind_mode, template <typename...> class, template <typename...> class, typename ParseInput,
              typename State>
    static bool match(ParseInput& in, State& st) {
        return st.string_literal(in);
    }
};

struct sep : one<';', ','> {};
struct equals : seq<one<'='>, not_at<one<'='>>> {};
struct open_paren : one<'('> {};
struct close_paren : one<')'> {};
struct open_brace : one<'{'> {};
struct close_brace : one<'}'> {};

// ---- expressions ----
// Expressions, kernel calls and binding lists are parsed by hand (expression.hpp holds
// their grammar): these rules hand the input to the state's parser and succeed when it read
// one, consuming nothing otherwise. `sum` is an expression without comparisons and logic
// (the bounds of a runtime domain).
template <typename Tag> struct handwritten {
    using rule_t = handwritten;
    using subs_t = empty_list;
    template <apply_mode, rewind_mode, template <typename...> class, template <typename...> class, typename ParseInput,
              typename State>
    static bool match(ParseInput& in, State& st) {
        return st.template parse<Tag>(in);
    }
};
struct expr : handwritten<expr> {};
struct sum : handwritten<sum> {};
struct call : handwritten<call> {};
struct binding_list : handwritten<binding_list> {};
// A kernel's parameters and body `(…) { … }` left unparsed: matched (by a scan for the
// closing parenthesis and brace, past strings and comments) only when the file is read
// lazily, else it fails and kernel_rest parses them (interpreter/needed.hpp).
struct skipped_kernel : handwritten<skipped_kernel> {};

// Tokens read by the expression parser, named for their messages (errors.hpp).
struct digits : seq<digit, star<opt<one<'_'>>, digit>> {};
struct property_name : identifier {};

// ---- kernel bodies ----
struct source_stmt : seq<kw_source, ws, expect<string_lit>> {};
struct doc_stmt : seq<kw_doc, ws, expect<string_lit>> {};
struct require_stmt : seq<kw_require, ws, expect<expr>, ws, expect<string_lit>> {};
struct let_stmt : seq<kw_let, ws, expect<name>, ws, expect<equals>, ws, expect<expr>> {};
struct count : seq<kw_repeat, ws, expect<expr>> {};
struct with_clause : seq<kw_with, ws, expect<binding_list>> {};
struct child_call : seq<opt<count, ws>, expect<call>, opt<ws, with_clause>> {};
// `label: $Kernel(…)` or `METRIC = expr`: one name, then what follows it decides.
struct child_tail : seq<one<':'>, ws, expect<child_call>> {};
struct assign_tail : seq<equals, ws, expect<expr>> {};
struct labelled_stmt : seq<name, ws, sor<child_tail, assign_tail>> {};
struct stmt : sor<sep, source_stmt, doc_stmt, require_stmt, let_stmt, labelled_stmt> {};
struct param : seq<name, opt<ws, equals, ws, expect<expr>>> {};
struct param_list : seq<open_paren, ws, opt<param, star<ws, sep, ws, param>, opt<ws, sep>>, ws, expect<close_paren>> {};
struct kernel_end : one<'}'> {};
struct kernel_body : seq<expect<open_brace>, ws, star<stmt, ws>, expect<kernel_end>> {};
struct kernel_name : qname {};
struct kernel_rest : seq<opt<param_list, ws>, kernel_body> {};
struct kernel_decl : seq<kw_kernel, ws, expect<kernel_name>, ws, sor<skipped_kernel, kernel_rest>> {};

// ---- other declarations ----
struct import_decl : seq<kw_import, ws, expect<string_lit>> {};
struct metric_unit : seq<kw_unit, ws, expect<string_lit>> {};
struct style_name : sor<key<TAO_PEGTL_STRING("si")>, key<TAO_PEGTL_STRING("count")>, key<TAO_PEGTL_STRING("time")>> {};
struct metric_style : seq<key<TAO_PEGTL_STRING("style")>, ws, expect<style_name>> {};
// How a call's value combines its children's: summed (the default, times each repeat count)
// or their maximum (a peak, such as the largest working set of any one call).
struct combine_name : sor<key<TAO_PEGTL_STRING("sum")>, key<TAO_PEGTL_STRING("max")>> {};
struct metric_combine : seq<key<TAO_PEGTL_STRING("combine")>, ws, expect<combine_name>> {};
struct metric_decl : seq<kw_metric, ws, expect<name>, opt<ws, string_lit>, opt<ws, metric_unit>, opt<ws, metric_style>,
                         opt<ws, metric_combine>> {};
// `property mem_bw "memory bandwidth" unit "B/s"`: a value hardware declarations may give.
struct property_decl : seq<kw_property, ws, expect<name>, opt<ws, string_lit>, opt<ws, metric_unit>> {};
// `hardware h100-sxm { doc "…" source "…" bf16 = 989.4e12 "note" … }`.
struct hardware_note : string_lit {};
struct hardware_entry : seq<name, ws, expect<equals>, ws, expect<expr>, opt<ws, hardware_note>> {};
struct hardware_end : one<'}'> {};
struct hardware_body : seq<open_brace, ws, star<sor<sep, source_stmt, doc_stmt, hardware_entry>, ws>, expect<hardware_end>> {};
struct hardware_name : sor<string_lit, plus<sor<ident_other, one<'.', '-', '/'>>>> {};
struct hardware_decl : seq<kw_hardware, ws, expect<hardware_name>, ws, expect<hardware_body>> {};
// `every leaf (math = 0) { … }`: statements run after every leaf kernel's own (the roofline).
struct every_decl : seq<kw_every, ws, expect<kw_leaf>, ws, opt<param_list, ws>, kernel_body> {};
// `runtime seq_len: int >= 1 = 1 "doc"`: the domain (type and bounds) and the doc are optional.
struct domain_type : sor<key<TAO_PEGTL_STRING("int")>, key<TAO_PEGTL_STRING("rational")>> {};
struct bound_ge : string<'>', '='> {};
struct bound_gt : one<'>'> {};
struct bound_le : string<'<', '='> {};
struct bound_lt : one<'<'> {};
struct bound_op : sor<bound_ge, bound_le, bound_gt, bound_lt> {};
struct domain_bound : seq<bound_op, ws, expect<sum>> {};
struct runtime_domain : seq<one<':'>, ws, expect<domain_type>, star<ws, domain_bound>> {};
struct runtime_doc : string_lit {};
struct runtime_decl : seq<kw_runtime, ws, expect<name>, ws, opt<runtime_domain, ws>, expect<equals>, ws, expect<expr>, opt<ws, runtime_doc>> {};
struct alias_target : qname {};
struct alias_decl : seq<kw_alias, ws, expect<qname>, ws, expect<equals>, ws, expect<alias_target>> {};
struct model_name : sor<string_lit, plus<sor<ident_other, one<'.', '-', '/'>>>> {};
struct config_entry : seq<dotted_key, ws, expect<equals>, ws, expect<expr>> {};
struct config_end : one<'}'> {};
struct config_block : seq<open_brace, ws, star<sor<sep, config_entry>, ws>, expect<config_end>> {};
struct config_from : seq<kw_from, ws, expect<string_lit>> {};
struct config_what : sor<config_from, config_block> {};
struct config_stmt : seq<kw_config, ws, expect<config_what>> {};
struct default_stmt : seq<name, ws, expect<equals>, ws, expect<expr>> {};
struct model_stmt : sor<sep, config_stmt, source_stmt, doc_stmt, default_stmt> {};
struct model_end : one<'}'> {};
struct model_body : seq<open_brace, ws, star<model_stmt, ws>, expect<model_end>> {};
struct model_decl : seq<kw_model, ws, expect<model_name>, ws, expect<equals>, ws, expect<call>, opt<ws, model_body>> {};

// `engine vllm "doc" { transformers.…LlamaForCausalLM = vllm.…LlamaForCausalLM }`: the
// kernel an execution runs in place of a model's entry kernel. Blocks of one engine merge.
struct engine_from : qname {};
struct engine_to : qname {};
struct engine_entry : seq<engine_from, ws, expect<equals>, ws, expect<engine_to>> {};
struct engine_end : one<'}'> {};
struct engine_body : seq<open_brace, ws, star<sor<sep, engine_entry>, ws>, expect<engine_end>> {};
struct engine_decl : seq<kw_engine, ws, expect<name>, ws, opt<string_lit, ws>, expect<engine_body>> {};
struct item : sor<sep, import_decl, metric_decl, runtime_decl, kernel_decl, alias_decl, model_decl, property_decl,
                  hardware_decl, every_decl, engine_decl> {};
struct file : seq<ws, star<item, ws>, expect<eof>> {};

// A single expression and nothing else (command-line values, REPL expressions).
struct end_of_expr : eof {};
struct expr_only : seq<ws, expect<expr>, ws, expect<end_of_expr>> {};

}  // namespace costi::grammar

// analyze(): a hand-written rule consumes input whenever it succeeds.
template <typename Name, typename Tag>
struct tao::pegtl::analyze_traits<Name, costi::grammar::handwritten<Tag>> : analyze_any_traits<> {};
