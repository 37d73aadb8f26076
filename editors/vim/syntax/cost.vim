" Vim syntax file
" Language:    cost (the exact cost formulas of costi, docs/language.md)
" Filenames:   *.cost
" The same categories as the TextMate grammar of editors/vscode: keywords and declarations,
" declared names, $Class(k = v) calls with their labels and bindings, numbers in every literal
" form, strings with their escapes, # comments, operators.

if exists("b:current_syntax")
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
syn sync minlines=50

" ---- lexical ----
syn keyword costTodo contained TODO FIXME XXX NOTE
syn match   costComment "#.*$" contains=costTodo,@Spell
" A bad escape first: where both match, the one defined last wins.
syn match   costBadEscape contained +\\[^"\\nt]\=+
syn match   costEscape contained +\\["\\nt]+
syn region  costString start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ contains=costEscape,costBadEscape,@Spell
" 42, 1_000_000, 0.5, 1e12, 989.4e12, 2.5E-3, 1e-06 (no sign: -1 is unary minus and 1).
syn match   costNumber "\<\d\%(_\=\d\)*\%(\.\d\%(_\=\d\)*\)\=\%([eE][+-]\=\d\%(_\=\d\)*\)\=\>"

" ---- expressions ----
syn keyword costConditional if then else
syn keyword costLogical and or not
syn keyword costBoolean true false
" A match, not a keyword: keywords win over matches, and `max` is also `combine max`.
syn match   costBuiltin "\<\%(min\|max\|floor\|ceil\|abs\|one_of\)\ze\s*("
syn match   costOperator "??\|==\|!=\|<=\|>=\|//\|[-+*/%^<>=]"
syn match   costConfig "\<config\.\%(\h\w*\)\%(\.\%(\h\w*\|\d\+\)\)*" contains=costConfigWord
syn match   costConfigWord contained "\<config\ze\."
syn match   costHw "\<hw\.\h\w*" contains=costHwWord
syn match   costHwWord contained "\<hw\ze\."
" $Name, ${Name}: the kernel called.
syn match   costCall "\$\%({\s*\)\=\h\w*\%(\.\h\w*\)*\%(\s*}\)\=" nextgroup=costArgs skipwhite
" k = v inside a call's or a `with` argument list.
syn region  costArgs contained matchgroup=costParen start="(" end=")" contains=costBinding,@costExpr transparent
syn match   costBinding contained "\<\h\w*\ze\s*=\%(=\)\@!"
syn cluster costExpr contains=costComment,costString,costNumber,costConditional,costLogical,costBoolean,costBuiltin,costOperator,costConfig,costHw,costCall,costGroup
syn region  costGroup matchgroup=costParen start="(" end=")" contains=@costExpr transparent

" ---- statements ----
syn keyword costStatement let require source doc
syn keyword costRepeat repeat
syn keyword costStatement with nextgroup=costArgs skipwhite
syn match   costLabel "\<\h\w*\ze\s*:"
syn keyword costImport import
" `config` and `unit` are matches where they are keywords (`config {`, `config from`,
" `unit "B"`): a keyword would also take the `config` of `config.KEY`.
syn keyword costKeyword from
syn match   costKeyword "\<config\ze\s*from\>"
syn match   costKeyword "\<unit\ze\s*\""
syn match   costKeyword "\<config\ze\s*{" nextgroup=costConfigBlock skipwhite
syn region  costConfigBlock contained matchgroup=costParen start="{" end="}" contains=costConfigKey,@costExpr transparent
syn match   costConfigKey contained "\<\h\w*\%(\.\%(\h\w*\|\d\+\)\)*\ze\s*=\%(=\)\@!"
syn match   costKeyword "\<style\ze\s\+\%(si\|count\|time\)\>"
syn match   costKeyword "\<combine\ze\s\+\%(sum\|max\)\>"
syn match   costType "\%(\<style\s\+\)\@<=\%(si\|count\|time\)\>"
syn match   costType "\%(\<combine\s\+\)\@<=\%(sum\|max\)\>"
syn match   costType "\%(:\s*\)\@<=\%(int\|rational\)\>"

" ---- declarations: the keyword, then the declared name ----
syn keyword costDeclaration alias metric runtime property engine nextgroup=costDeclName skipwhite
syn keyword costDeclaration kernel nextgroup=costKernelName skipwhite
syn keyword costDeclaration model hardware nextgroup=costTypeName skipwhite
syn match   costDeclName contained "\h\w*\%(\.\h\w*\)*"
syn match   costKernelName contained "\h\w*\%(\.\h\w*\)*" nextgroup=costParams skipwhite
" A model or a device: a hub id (meta-llama/Llama-2-7b-hf), a device name (h100-sxm), a string.
syn match   costTypeName contained +"[^"]*"\|[[:alnum:]_./-]\++
syn match   costDeclaration "\<every\s\+leaf\>" nextgroup=costParams skipwhite

" Kernel parameters: the names in `kernel NAME(p1, p2 = default)` and `every leaf (...)`.
syn region  costParams contained matchgroup=costParen start="(" end=")" contains=costParam,costDefault,costComment transparent
syn match   costParam contained "\<\h\w*\>"
syn region  costDefault contained start="=" end="\ze[,;)]" contains=@costExpr transparent

hi def link costTodo        Todo
hi def link costComment     Comment
hi def link costString      String
hi def link costEscape      SpecialChar
hi def link costBadEscape   Error
hi def link costNumber      Number
hi def link costConditional Conditional
hi def link costLogical     Operator
hi def link costBoolean     Boolean
hi def link costBuiltin     Function
hi def link costOperator    Operator
hi def link costConfig      Identifier
hi def link costHw          Identifier
hi def link costConfigWord  Special
hi def link costHwWord      Special
hi def link costCall        Function
hi def link costBinding     Identifier
hi def link costConfigKey   Identifier
hi def link costParam       Identifier
hi def link costStatement   Statement
hi def link costLabel       Label
hi def link costImport      Include
hi def link costKeyword     Keyword
hi def link costType        Type
hi def link costDeclaration Keyword
hi def link costDeclName    Identifier
hi def link costKernelName  Function
hi def link costTypeName    Type
hi def link costRepeat      Repeat
hi def link costParen       Delimiter

let b:current_syntax = "cost"

let &cpo = s:cpo_save
unlet s:cpo_save
