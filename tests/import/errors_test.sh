#!/usr/bin/env bash
# costi import on bad input: exit status 1, a message naming the file, the JSON path and
# (for formulas) the column, and no output directory left behind.
# usage: errors_test.sh COSTI
set -u
costi=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

module() {  # module FILE CLASS FLOPS [READ [WRITE]]: a one-kernel module analysis
  local read=${4:-0} write=${5:-0}
  cat > "$1" <<JSON
{"class_name": "$2", "kernels": [{"kernel_type": "basic", "operation": "op", "analysis": "a",
  "flops": $3, "memory_access": {"read": $read, "write": $write}}]}
JSON
}

# expect NAME STATUS [SUBSTRING…]: run `costi import $work/NAME -o $work/out-NAME`.
expect() {
  local name=$1 status=$2
  shift 2
  local err
  err=$("$costi" import "$work/$name" -o "$work/out-$name" 2>&1 >/dev/null)
  local got=$?
  if [ "$got" != "$status" ]; then
    echo "FAIL $name: exit $got, expected $status"; echo "$err"; failures=$((failures + 1)); return
  fi
  if [ -e "$work/out-$name" ] || ls -a "$work" | grep -q "^\.out-$name\.import-"; then
    echo "FAIL $name: an output directory was left behind"; failures=$((failures + 1))
  fi
  for want in "$@"; do
    if ! grep -qF -- "$want" <<<"$err"; then
      echo "FAIL $name: no '$want' in:"; echo "$err"; failures=$((failures + 1)); return
    fi
  done
  echo "ok   $name"
}

mkdir -p "$work"/{malformed,dangling,cycle,binding,unbound,function,attribute,subtracted,mismatch,positional,deep,string,chain,schema_only}
printf '{"class_name": "a.B", "kernels": [' > "$work/malformed/a.json"
expect malformed 1 "malformed/a.json: error: malformed JSON" "E0501" "at \$"

module "$work/dangling/a.json" a.A '"2 * ${nope.Missing}(x=1)"' '"${nope.Missing}(x=1)"' '"${nope.Missing}(x=1)"'
expect dangling 1 "a.json: error: 'nope.Missing' is defined by no input file" "at \$.kernels[0].flops, column 5"

module "$work/cycle/a.json" c.A '"${c.B}()"' '"${c.B}()"' '"${c.B}()"'
module "$work/cycle/b.json" c.B '"${c.A}()"' '"${c.A}()"' '"${c.A}()"'
expect cycle 1 "reference cycle: c.A -> c.B -> c.A" "column 1"

cat > "$work/binding/leaf.json" <<'JSON'
{"kernel_name": "t.mm", "init_params": [], "forward_params": ["M", "K", "N"],
 "flops": "2 * M * K * N", "memory_read": "(M * K + K * N) * bytes", "memory_write": "M * N * bytes"}
JSON
cat > "$work/binding/comp.json" <<'JSON'
{"kernel_name": "t.Comp", "init_params": [], "forward_params": [],
 "children": {"mm": {"kernel": "t.mm", "bindings": {"M": "seq_len", "K": "2", "Q": "3"}}}}
JSON
expect binding 1 "comp.json: error: \${t.mm} has no parameter 'Q'" "at \$.children.mm.bindings.Q" "hint: "

cat > "$work/unbound/leaf.json" <<'JSON'
{"kernel_name": "t.mm", "init_params": [], "forward_params": ["M", "K"],
 "flops": "2 * M * K * Z", "memory_read": "0", "memory_write": "0"}
JSON
expect unbound 1 "leaf.json: error: 'Z' is not bound" "at \$.flops, column 13"

module "$work/function/a.json" f.A '"2 * sqrt({x})"'
expect function 1 "error: unknown function 'sqrt'" "at \$.kernels[0].flops, column 5" "    2 * sqrt({x})" "        ^"

module "$work/attribute/a.json" f.A '"self.hidden_size * 2"'
expect attribute 1 "unknown attribute 'self.hidden_size'" "column 1"

module "$work/subtracted/a.json" s.A '"1"'
module "$work/subtracted/b.json" s.B '"{x} - ${s.A}()"' '"0"' '"0"'
expect subtracted 1 "b.json: error: a reference cannot be subtracted" "column 5"

module "$work/mismatch/a.json" m.A '"1"'
module "$work/mismatch/b.json" m.B '"${m.A}()"' '"2 * ${m.A}()"' '"${m.A}()"'
expect mismatch 1 "b.json: error: its references differ from those of flops" "at \$.kernels[0].memory_access.read"

module "$work/positional/a.json" p.A '"{x} * {y}"'
module "$work/positional/b.json" p.B '"${p.A}(1, 2, 3)"' '"${p.A}(1, 2, 3)"' '"${p.A}(1, 2, 3)"'
expect positional 1 "too many positional arguments for \${p.A}: it takes 2" "column 14" "hint: its parameters, in order: x, y; --drop-extra-arguments drops the extra ones (with a warning)"

deep=$(printf '(%.0s' $(seq 70))1$(printf ')%.0s' $(seq 70))
module "$work/deep/a.json" d.A "\"$deep\""
expect deep 1 "formula nested more than 64 levels deep"

module "$work/string/a.json" s.A "\"len('abc')\""
expect string 1 "unknown function 'len'"

module "$work/chain/a.json" s.A '"1 if {x} < 2 < else 3"'
expect chain 1 "at \$.kernels[0].flops, column 16" "where an operand is expected"

# A layer class that neither the inputs nor costi's library define: the nearest library names.
mkdir -p "$work/unknown_class"
cat > "$work/unknown_class/m.json" <<'JSON'
{"model_id": "t/m", "layers": [{"name": "blk", "class": "t.Block", "sub_layers": [
  {"name": "proj", "class": "torch.nn.modules.linear.Linearr"}]}]}
JSON
expect unknown_class 1 "m.json: error: 'torch.nn.modules.linear.Linearr' is defined by no input file nor costi's library" \
  "at \$.layers[0].sub_layers[0].class" "hint: import the file that analyses it along with this one; the nearest names in costi's library: torch.nn.modules.linear.Linear"

printf '{"$schema": "x"}' > "$work/schema_only/s.json"
expect schema_only 1 "nothing to import"

# An existing output directory is kept unless --force.
mkdir -p "$work/existing"
module "$work/ok.json" o.A '"1"'
"$costi" import "$work/ok.json" -o "$work/existing" >/dev/null 2>&1
if [ $? != 2 ]; then echo "FAIL existing: expected exit 2"; failures=$((failures + 1)); else echo "ok   existing"; fi
"$costi" import "$work/ok.json" -o "$work/existing" --force >/dev/null 2>&1 && [ -f "$work/existing/o.A.cost" ] \
  && echo "ok   --force" || { echo "FAIL --force"; failures=$((failures + 1)); }

echo "$failures failures"
[ "$failures" = 0 ]
