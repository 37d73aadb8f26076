// Reading only the library a program needs: the step between loading and checking.
//
// Owns: deciding which kernels of lazily read library files (their bodies left unparsed by
// the loader) a program can reach, and parsing exactly those bodies. Roots are everything
// the checker will check anyway — every kernel whose body is read (the user's files), the
// models, `every leaf` blocks, engines, runtime defaults and hardware values — and the
// closure follows kernel calls and aliases from them. The checker then leaves the unread
// kernels out, so `costi run` of a model parses and checks the 40% of the library it uses
// (docs/performance.md, "Start-up"). Does not own parsing (grammar/) or the rules (checker).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "interpreter/ast.hpp"

namespace costi::interp {

// Parses the unread bodies the roots of `modules` reach. When a kernel or alias name is
// declared twice, parses every body instead (the checker's duplicate error must see both).
// Throws CostiError (E0001) from a body that does not parse.
// `also_root`, when given, makes more kernels roots by name (a config.json's model classes,
// which the entry is found among after the check).
void read_needed_bodies(std::vector<ast::Module>& modules,
                        const std::function<bool(const std::string&)>& also_root = {});

// Parses every unread body: a full check (after a lazy one failed, so that its diagnostics
// are exactly those of an eager load). Throws CostiError (E0001).
void read_all_bodies(std::vector<ast::Module>& modules);

// True when some kernel of `modules` has an unread body.
bool has_unread_bodies(const std::vector<ast::Module>& modules);

}  // namespace costi::interp
