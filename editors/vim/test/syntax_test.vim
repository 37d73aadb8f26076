" Loads editors/vim's syntax on every .cost file of the repository and checks chosen positions
" of shipped files. Run from the repository's root by syntax_test.sh, which reads the result
" from the file in $COST_VIM_RESULT: "ok N" or one failure per line. Vim is started with
" -u NONE and editors/vim first on 'runtimepath', so the ftdetect and syntax files under test
" are the ones loaded.
let s:failures = []
filetype on
syntax on

" Every .cost file below the root, skipping build trees, dependencies and hidden folders.
let s:files = []
for s:top in glob('*', 0, 1)
  if s:top =~# '^build' || s:top ==# 'node_modules'
    continue
  endif
  let s:files += isdirectory(s:top) ? globpath(s:top, '**/*.cost', 0, 1) : (s:top =~# '\.cost$' ? [s:top] : [])
endfor
call filter(s:files, 'v:val !~# "node_modules" && v:val !~# "/\\."')
if len(s:files) < 100
  call add(s:failures, 'only ' . len(s:files) . ' .cost files found')
endif
for s:f in s:files
  let v:errmsg = ''
  try
    execute 'silent edit ' . fnameescape(s:f)
    if &filetype !=# 'cost' || get(b:, 'current_syntax', '') !=# 'cost'
      call add(s:failures, s:f . ': filetype ' . &filetype . ', syntax ' . get(b:, 'current_syntax', ''))
    endif
    " Highlight the whole file, as scrolling through it would.
    syntax sync fromstart
    for s:l in range(1, line('$'))
      call synID(s:l, max([1, len(getline(s:l))]), 1)
    endfor
  catch
    call add(s:failures, s:f . ': ' . v:exception)
  endtry
  if v:errmsg !=# ''
    call add(s:failures, s:f . ': ' . v:errmsg)
  endif
  silent bwipeout!
endfor

" The syntax groups at the `nth` (from 1) occurrence of `text` on the first line of `file`
" that contains `line` must include `group`.
function! s:Expect(file, line, text, nth, group) abort
  execute 'silent edit ' . fnameescape(a:file)
  syntax sync fromstart
  call cursor(1, 1)
  let l = search('\V' . escape(a:line, '\'), 'cW')
  if l == 0
    call add(s:failures, a:file . ': no line contains ' . a:line)
    return
  endif
  let idx = -1
  for i in range(a:nth)
    let idx = stridx(getline(l), a:text, idx + 1)
  endfor
  if idx < 0
    call add(s:failures, a:file . ':' . l . ': no ' . a:text)
    return
  endif
  let names = map(synstack(l, idx + 1), 'synIDattr(v:val, "name")')
  if index(names, a:group) < 0
    call add(s:failures, a:file . ':' . l . ':' . (idx + 1) . ': ' . a:text . ' is [' . join(names) . '], not ' . a:group)
  endif
endfunction

let s:llama = 'kernels/llama.cost'
call s:Expect(s:llama, 'kernel transformers.models.llama.modeling_llama.LlamaMLP {', 'kernel', 1, 'costDeclaration')
call s:Expect(s:llama, 'kernel transformers.models.llama.modeling_llama.LlamaMLP {', 'transformers.', 1, 'costKernelName')
call s:Expect(s:llama, 'kernel transformers.models.llama.modeling_llama.repeat_kv(heads', 'kv_heads', 1, 'costParam')
call s:Expect(s:llama, 'repeat L $transformers.models.llama.modeling_llama.LlamaDecoderLayer()', 'layers', 1, 'costLabel')
call s:Expect(s:llama, 'repeat L $transformers.models.llama.modeling_llama.LlamaDecoderLayer()', 'repeat', 1, 'costRepeat')
call s:Expect(s:llama, 'repeat L $transformers.models.llama.modeling_llama.LlamaDecoderLayer()', '$transformers', 1, 'costCall')
call s:Expect(s:llama, 'repeat L $transformers.models.llama.modeling_llama.LlamaDecoderLayer()', '# L394', 1, 'costComment')
call s:Expect(s:llama, 'q_proj:          $F.linear(M = M, K = H', 'M', 1, 'costBinding')
call s:Expect(s:llama, 'q_proj:          $F.linear(M = M, K = H', '*', 1, 'costOperator')
call s:Expect(s:llama, '  require V >= 1 and V == floor(V)', 'require', 1, 'costStatement')
call s:Expect(s:llama, '  require V >= 1 and V == floor(V)', 'floor', 1, 'costBuiltin')
call s:Expect(s:llama, '  require V >= 1 and V == floor(V)', 'config.vocab_size must', 1, 'costString')
call s:Expect(s:llama, '  require one_of(attn_impl, "sdpa", "eager")', 'one_of', 1, 'costBuiltin')
call s:Expect('models/qwen2-7b.cost', 'rms_norm_eps = 1e-06', '1e-06', 1, 'costNumber')
call s:Expect('models/qwen2-7b.cost', 'rms_norm_eps = 1e-06', '-06', 1, 'costNumber')
call s:Expect('models/llama-2-7b.cost', 'hidden_size = 4096', '4096', 1, 'costNumber')
call s:Expect('models/llama-2-7b.cost', 'model meta-llama/Llama-2-7b-hf = ', 'meta-llama', 1, 'costTypeName')
call s:Expect('models/llama-2-7b.cost', 'tie_word_embeddings = false', 'false', 1, 'costBoolean')
call s:Expect('hardware/h100-sxm.cost', '= 989.4e12   "V: BF16/FP16', '989.4e12', 1, 'costNumber')
call s:Expect('hardware/h100-sxm.cost', 'hardware h100-sxm {', 'h100-sxm', 1, 'costTypeName')
call s:Expect('stdlib/roofline.cost', 'else if math >= 1 then 1 else 1 / 2', '2', 2, 'costNumber')
call s:Expect('stdlib/roofline.cost', 'else if math >= 1 then 1 else 1 / 2', 'then', 1, 'costConditional')
call s:Expect('stdlib/roofline.cost', 'let memory = (read + write) / (memory_eff * hw.mem_bw)', 'hw', 1, 'costHwWord')
call s:Expect('stdlib/roofline.cost', 'every leaf (math = 0, kv_held', 'kv_held', 1, 'costParam')
call s:Expect('stdlib/prelude.cost', 'runtime seq_len:', 'int', 1, 'costType')
call s:Expect('stdlib/prelude.cost', 'metric params ', 'count', 2, 'costType')
call s:Expect('stdlib/roofline.cost', 'unit "B" combine max', 'max', 1, 'costType')
call s:Expect('stdlib/roofline.cost', 'unit "B" combine max', 'unit', 1, 'costKeyword')
call s:Expect(s:llama, '  let heads = config.num_attention_heads', 'config', 1, 'costConfigWord')
call s:Expect(s:llama, '  let heads = config.num_attention_heads', 'num_attention_heads', 1, 'costConfig')
call s:Expect('models/llama-2-7b.cost', '  config {', 'config', 1, 'costKeyword')
call s:Expect('models/llama-2-7b.cost', '    hidden_size = 4096', 'hidden_size', 1, 'costConfigKey')
call s:Expect('stdlib/activations.cost', 'approximate = \"none\"', '\"', 1, 'costEscape')

let s:out = empty(s:failures) ? ['ok ' . len(s:files)] : s:failures
call writefile(s:out, $COST_VIM_RESULT)
if empty(s:failures)
  qall!
endif
cquit!
