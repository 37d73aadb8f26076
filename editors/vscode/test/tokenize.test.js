// Tokenises every .cost file of the repository with the extension's TextMate grammar, through
// the engine VS Code itself uses (vscode-textmate + vscode-oniguruma, whose WebAssembly ships
// inside the npm package), and checks that
//   - nothing is left unmatched: every character other than white space gets a scope besides
//     the root `source.cost`, and no shipped file has a token scoped `invalid`;
//   - hand-picked lines of shipped files get the scopes the language gives them: keywords,
//     declared kernel names, `$Class(...)` calls and their bindings, labels, numbers in every
//     literal form, strings with their escapes, comments.
// Run: cd editors/vscode && npm ci && node --test test/   (ctest runs it as editors.tokenize)
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const extension = path.resolve(__dirname, "..");
const root = path.resolve(extension, "..", "..");
const grammarPath = path.join(extension, "syntaxes", "cost.tmLanguage.json");

// Files that are not valid cost syntax on purpose: the unmatched check does not apply to them
// (they are still tokenised, which must not throw). Each entry must exist, so the list cannot
// go stale silently. Every other .cost file of the repository parses (`costi check` finds no
// E0001 in it), the golden error cases included: their errors are the checker's, not syntax.
const deliberateSyntaxErrors = new Map([
  ["tests/golden/error_syntax.cost", "an unclosed parenthesis, the golden case of a syntax error"],
]);

// Every .cost file under the repository, skipping build trees, dependencies and hidden folders.
function costFiles(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(root, full).split(path.sep).join("/");
    if (entry.isDirectory()) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      if (dir === root && entry.name.startsWith("build")) continue;
      costFiles(full, out);
    } else if (entry.isFile() && entry.name.endsWith(".cost")) {
      out.push(rel);
    }
  }
  return out.sort();
}

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== "source.cost") return null;
      const text = fs.readFileSync(grammarPath, "utf8");
      return vsctm.parseRawGrammar(text, grammarPath);
    },
  });
  return registry.loadGrammar("source.cost");
}

// [{line, text, tokens: [{text, start, scopes}]}] for a whole file, the rule stack carried
// from line to line as an editor does.
function tokenize(grammar, source) {
  const lines = source.split(/\r?\n/);
  let stack = vsctm.INITIAL;
  return lines.map((text, i) => {
    const r = grammar.tokenizeLine(text, stack);
    stack = r.ruleStack;
    return {
      line: i + 1,
      text,
      tokens: r.tokens.map((t) => ({ text: text.slice(t.startIndex, t.endIndex), start: t.startIndex, scopes: t.scopes })),
    };
  });
}

const grammarPromise = loadGrammar();
const cache = new Map();
async function tokensOf(rel) {
  if (!cache.has(rel)) cache.set(rel, tokenize(await grammarPromise, fs.readFileSync(path.join(root, rel), "utf8")));
  return cache.get(rel);
}

test("the grammar is source.cost and the extension contributes it for .cost", () => {
  const grammar = JSON.parse(fs.readFileSync(grammarPath, "utf8"));
  assert.equal(grammar.scopeName, "source.cost");
  const pkg = JSON.parse(fs.readFileSync(path.join(extension, "package.json"), "utf8"));
  const lang = pkg.contributes.languages.find((l) => l.id === "cost");
  assert.deepEqual(lang.extensions, [".cost"]);
  const contributed = pkg.contributes.grammars.find((g) => g.language === "cost");
  assert.equal(contributed.scopeName, "source.cost");
  assert.equal(path.resolve(extension, contributed.path), grammarPath);
  const config = JSON.parse(fs.readFileSync(path.join(extension, lang.configuration), "utf8"));
  assert.equal(config.comments.lineComment, "#");
});

test("every shipped .cost file is tokenised with nothing left unmatched", async () => {
  const files = costFiles(root);
  // The library's folders are all there (a walk that found nothing would pass vacuously).
  for (const dir of ["stdlib/", "kernels/", "kernels/vllm/", "models/", "hardware/", "tests/golden/"]) {
    assert.ok(files.some((f) => f.startsWith(dir) && !f.slice(dir.length).includes("/")), `no .cost file in ${dir}`);
  }
  assert.ok(files.length >= 100, `only ${files.length} .cost files found`);
  for (const rel of deliberateSyntaxErrors.keys()) assert.ok(files.includes(rel), `${rel} is listed but absent`);
  const problems = [];
  for (const rel of files) {
    const lines = await tokensOf(rel);
    if (!deliberateSyntaxErrors.has(rel)) problems.push(...unmatched(rel, lines));
  }
  assert.deepEqual(problems.slice(0, 40), [], `${problems.length} problems`);
});

// The unmatched and invalid tokens of a tokenised file, as "file:line:col: what".
function unmatched(rel, lines) {
  const problems = [];
  for (const { line, tokens } of lines) {
    for (const t of tokens) {
      if (t.scopes.length === 1 && t.text.trim() !== "") {
        const col = t.start + t.text.length - t.text.trimStart().length + 1;
        problems.push(`${rel}:${line}:${col}: unmatched ${JSON.stringify(t.text.trim())}`);
      }
      const bad = t.scopes.find((s) => s.startsWith("invalid"));
      if (bad) problems.push(`${rel}:${line}:${t.start + 1}: ${bad} on ${JSON.stringify(t.text)}`);
    }
  }
  return problems;
}

test("the unmatched check finds what the grammar does not cover", async () => {
  const g = await grammarPromise;
  // A stray closing brace and a character the language does not have, and a bad escape.
  const lines = tokenize(g, 'kernel X { flops = 1 } }\nlet y = 2 @ 3\ndoc "a\\qb"');
  assert.deepEqual(unmatched("snippet", lines), [
    'snippet:1:24: unmatched "}"',
    'snippet:2:11: unmatched "@"',
    'snippet:3:7: invalid.illegal.escape.cost on "\\\\q"',
  ]);
});

// The token of `rel` on the first line matching `lineRe` whose text is exactly `text` (the
// `nth` such token of that line, from 0), with its scopes.
async function token(rel, lineRe, text, nth = 0) {
  const lines = await tokensOf(rel);
  const line = lines.find((l) => lineRe.test(l.text));
  assert.ok(line, `${rel}: no line matches ${lineRe}`);
  const found = line.tokens.filter((t) => t.text === text);
  assert.ok(found.length > nth, `${rel}:${line.line}: no token ${JSON.stringify(text)} in ${JSON.stringify(line.tokens.map((t) => t.text))}`);
  return { where: `${rel}:${line.line}`, scopes: found[nth].scopes };
}

// Asserts that the token has a scope starting with `prefix` (scope names end with `.cost`).
async function expectScope(rel, lineRe, text, prefix, nth = 0) {
  const { where, scopes } = await token(rel, lineRe, text, nth);
  assert.ok(
    scopes.some((s) => s === prefix || s.startsWith(prefix + ".")),
    `${where}: ${JSON.stringify(text)} should be ${prefix}, has ${scopes.join(" ")}`,
  );
}

test("kernel declarations: the keyword, the declared name, the parameters", async () => {
  const f = "kernels/llama.cost";
  const decl = /^kernel transformers\.models\.llama\.modeling_llama\.LlamaMLP \{/;
  await expectScope(f, decl, "kernel", "keyword.declaration.kernel");
  await expectScope(f, decl, "transformers.models.llama.modeling_llama.LlamaMLP", "entity.name.function.kernel");
  const withParams = /^kernel transformers\.models\.llama\.modeling_llama\.repeat_kv\(heads, kv_heads, kv_len, head_dim\)/;
  await expectScope(f, withParams, "transformers.models.llama.modeling_llama.repeat_kv", "entity.name.function.kernel");
  for (const p of ["heads", "kv_heads", "kv_len", "head_dim"]) await expectScope(f, withParams, p, "variable.parameter");
  // A default value is an expression: its names are variables, not parameters.
  const every = /^every leaf \(math = 0, kv_held = 0, weights_read = params \* w_bytes/;
  await expectScope("stdlib/roofline.cost", every, "every", "keyword.declaration.every");
  await expectScope("stdlib/roofline.cost", every, "leaf", "keyword.declaration.leaf");
  await expectScope("stdlib/roofline.cost", every, "weights_read", "variable.parameter");
  await expectScope("stdlib/roofline.cost", every, "params", "variable.other", 0);
  await expectScope("stdlib/roofline.cost", every, "0", "constant.numeric.integer");
});

test("calls: $Class(...) with its label, repeat count and bindings", async () => {
  const f = "kernels/llama.cost";
  const layers = /^\s+layers:\s+repeat L \$transformers\.models\.llama\.modeling_llama\.LlamaDecoderLayer\(\)/;
  await expectScope(f, layers, "layers", "entity.name.label");
  await expectScope(f, layers, "repeat", "keyword.control.repeat");
  await expectScope(f, layers, "$", "punctuation.definition.call");
  await expectScope(f, layers, "transformers.models.llama.modeling_llama.LlamaDecoderLayer", "entity.name.function.call");
  await expectScope(f, layers, "#", "punctuation.definition.comment");
  await expectScope(f, layers, " L394-403", "comment.line.number-sign");
  const q = /^\s+q_proj:\s+\$F\.linear\(M = M, K = H, N = heads \* d, has_bias = bias\)/;
  await expectScope(f, q, "F.linear", "entity.name.function.call");
  await expectScope(f, q, "M", "variable.parameter.binding", 0);
  await expectScope(f, q, "M", "variable.other", 1);
  await expectScope(f, q, "has_bias", "variable.parameter.binding");
  await expectScope(f, q, "*", "keyword.operator.arithmetic");
  // A call whose bindings continue on the next line keeps its scope there.
  const cont = /^\s+kv_heads = kv_heads, has_mask = has_mask\)\s+# L252-261/;
  await expectScope(f, cont, "kv_heads", "variable.parameter.binding", 0);
  await expectScope(f, cont, "has_mask", "meta.function-call", 1);
});

test("statements: let, require, source, doc, metric assignments", async () => {
  const f = "kernels/llama.cost";
  const req = /^\s+require V >= 1 and V == floor\(V\) "config\.vocab_size must be a positive integer"/;
  await expectScope(f, req, "require", "keyword.control.require");
  await expectScope(f, req, ">=", "keyword.operator.comparison");
  await expectScope(f, req, "and", "keyword.operator.logical");
  await expectScope(f, req, "floor", "support.function.builtin");
  await expectScope(f, req, "config.vocab_size must be a positive integer", "string.quoted.double");
  const oneOf = /^\s+require one_of\(attn_impl, "sdpa", "eager"\)/;
  await expectScope(f, oneOf, "one_of", "support.function.builtin");
  await expectScope(f, oneOf, "attn_impl", "variable.other");
  const letM = /^\s+let M = batch_size \* seq_len$/;
  await expectScope(f, letM, "let", "keyword.declaration.let");
  await expectScope(f, letM, "M", "variable.other.let");
  await expectScope(f, /^\s+source "src\/transformers\/models\/llama\/modeling_llama\.py/, "source", "keyword.other.source");
  await expectScope("stdlib/matmul.cost", /^\s+flops\s+= /, "flops", "variable.other.metric");
});

test("numbers in every literal form, and operators between them", async () => {
  await expectScope("models/qwen2-7b.cost", /^\s+rms_norm_eps = 1e-06$/, "1e-06", "constant.numeric.decimal");
  await expectScope("models/llama-2-7b.cost", /^\s+hidden_size = 4096$/, "4096", "constant.numeric.integer");
  await expectScope("models/llama-2-7b.cost", /^\s+initializer_range = 0\.02$/, "0.02", "constant.numeric.decimal");
  await expectScope("hardware/h100-sxm.cost", /^\s+bf16\s+= 989\.4e12/, "989.4e12", "constant.numeric.decimal");
  // 1/2 is a division of two integers: the language has no fraction literal.
  const half = /else if math >= 1 then 1 else 1 \/ 2$/;
  await expectScope("stdlib/roofline.cost", half, "1", "constant.numeric.integer", 1);
  await expectScope("stdlib/roofline.cost", half, "/", "keyword.operator.arithmetic");
  await expectScope("stdlib/roofline.cost", half, "2", "constant.numeric.integer");
  await expectScope("stdlib/roofline.cost", /^runtime comm_latency: rational >= 0\s+= 8 \/ 1000000 /, "1000000", "constant.numeric.integer");
  const g = await grammarPromise;
  // Literal forms no shipped file happens to use: digit groups, signed and capital exponents.
  for (const lit of ["1_000_000", "2.5E-3", "1e+12", "0.5", "42"]) {
    const [tok] = tokenize(g, `x = ${lit}`)[0].tokens.filter((t) => t.text === lit);
    assert.ok(tok && tok.scopes.some((s) => s.startsWith("constant.numeric")), `${lit}: ${tok && tok.scopes}`);
  }
});

test("strings with escapes, comments, declarations of every kind", async () => {
  await expectScope("stdlib/activations.cost", /approximate = \\"none\\"/, '\\"', "constant.character.escape");
  await expectScope("stdlib/activations.cost", /approximate = \\"none\\"/, "none", "string.quoted.double");
  await expectScope("models/llama-2-7b.cost", /^# meta-llama\/Llama-2-7b-hf\. /, "#", "punctuation.definition.comment");
  const model = /^model meta-llama\/Llama-2-7b-hf = \$transformers/;
  await expectScope("models/llama-2-7b.cost", model, "model", "keyword.declaration.model");
  await expectScope("models/llama-2-7b.cost", model, "meta-llama/Llama-2-7b-hf", "entity.name.type.model");
  await expectScope("models/llama-2-7b.cost", model, "transformers.models.llama.modeling_llama.LlamaForCausalLM", "entity.name.function.call");
  await expectScope("models/llama-2-7b.cost", /^\s+config \{$/, "config", "keyword.other.config");
  await expectScope("models/llama-2-7b.cost", /^\s+hidden_act = "silu"$/, "hidden_act", "variable.other.property.config");
  await expectScope("models/llama-2-7b.cost", /^\s+tie_word_embeddings = false$/, "false", "constant.language.boolean");
  await expectScope("models/llama-2-7b.cost", /^import "\.\.\/kernels\/llama\.cost"$/, "import", "keyword.control.import");
  await expectScope("hardware/h100-sxm.cost", /^hardware h100-sxm \{/, "h100-sxm", "entity.name.type.hardware");
  await expectScope("hardware/h100-sxm.cost", /^\s+bf16\s+= 989\.4e12/, "bf16", "variable.other.property.hardware");
  const prelude = "stdlib/prelude.cost";
  const rt = /^runtime seq_len:\s+int >= 1\s+= 1/;
  await expectScope(prelude, rt, "runtime", "keyword.declaration.runtime");
  await expectScope(prelude, rt, "seq_len", "entity.name.variable.runtime");
  await expectScope(prelude, rt, "int", "support.type.domain");
  const metric = /^metric params\s+"weight elements/;
  await expectScope(prelude, metric, "metric", "keyword.declaration.metric");
  await expectScope(prelude, metric, "params", "entity.name.variable.metric");
  await expectScope(prelude, metric, "style", "keyword.other.style");
  await expectScope(prelude, metric, "count", "support.constant.style");
  const roofline = "stdlib/roofline.cost";
  await expectScope(roofline, /^property mem_bw /, "mem_bw", "entity.name.variable.property");
  await expectScope(roofline, /^property mem_bw /, "unit", "keyword.other.unit");
  await expectScope(roofline, /^metric workspace /, "combine", "keyword.other.combine");
  await expectScope(roofline, /let memory = \(read \+ write\) \/ \(memory_eff \* hw\.mem_bw\)/, "hw", "variable.language.hw");
  await expectScope(roofline, /let memory = \(read \+ write\) \/ \(memory_eff \* hw\.mem_bw\)/, "mem_bw", "variable.other.property.hardware");
  await expectScope(roofline, /\(hw\.fp32 \?\? hw\.bf16\)/, "??", "keyword.operator.default");
  await expectScope(roofline, /let peak_type = if math == 0 then 0 else/, "if", "keyword.control.conditional");
  await expectScope("stdlib/aliases.cost", /^alias torch\.nn\.Linear\s+= F\.linear$/, "torch.nn.Linear", "entity.name.function.alias");
  const engine = /^engine vllm /;
  const vllm = "kernels/vllm/llama_engine.cost";
  await expectScope(vllm, engine, "engine", "keyword.declaration.engine");
  await expectScope(vllm, engine, "vllm", "entity.name.type.engine");
});

test("forms no shipped file happens to use", async () => {
  const g = await grammarPromise;
  const source = [
    "model a = $K",
    'model "b c" = ${K}(x = 1) { config from "c.json"  config { frac = 0.5; q.w.0 = 2 } seq_len = 3 }',
    "kernel X(a,",
    "   b = min(a, 2)) {",
    "  c: $Y() with (seq_len = 1)",
    "  flops = -2^2 + config.quantization_config.weight_block_size.0 // 3 % 2",
    "}",
    'engine e "doc" {',
    "  a.b = c.d",
    "}",
  ].join("\n");
  const lines = tokenize(g, source);
  assert.deepEqual(unmatched("snippet", lines), []);
  const scope = (line, text, nth = 0) => lines[line - 1].tokens.filter((t) => t.text === text)[nth].scopes;
  const has = (scopes, prefix) => scopes.some((s) => s.startsWith(prefix));
  // A model without a body ends where the next declaration starts.
  assert.deepEqual(scope(2, "model").slice(1), ["meta.model.cost", "keyword.declaration.model.cost"]);
  assert.ok(has(scope(2, '"b c"'), "entity.name.type.model"));
  assert.ok(has(scope(2, "K"), "entity.name.function.call"));
  assert.ok(has(scope(2, "from"), "keyword.other.from"));
  assert.ok(has(scope(2, "q.w.0"), "variable.other.property.config"));
  assert.ok(has(scope(2, "seq_len"), "variable.other.runtime"));
  // Parameters over two lines; a default's names are not parameters.
  assert.ok(has(scope(4, "b"), "variable.parameter.cost"));
  assert.ok(!has(scope(4, "a"), "variable.parameter"));
  assert.ok(has(scope(5, "with"), "keyword.control.with"));
  assert.ok(has(scope(5, "seq_len"), "variable.parameter.binding"));
  assert.ok(has(scope(6, "quantization_config.weight_block_size.0"), "variable.other.property.config"));
  assert.ok(has(scope(6, "//"), "keyword.operator.arithmetic"));
  assert.ok(has(scope(9, "a.b"), "entity.name.function"));
  assert.ok(has(scope(10, "}"), "punctuation.section.block.end"));
});
