#!/usr/bin/env bash
# The Debian package: cpack builds costi_VERSION_ARCH.deb from the build tree; its control
# file names the shared libraries costi needs; extracted with dpkg-deb -x into a scratch
# root, it holds the binary, the library files, completions, manual page, C++ library and
# package config, and the extracted costi runs real models from any directory (finding its
# library beside itself). Where apt-get is there, it checks the package would install here.
# Skipped (77) without dpkg-deb.
set -euo pipefail
build=$1
work=$2
command -v dpkg-deb >/dev/null || exit 77
fail() {
  echo "$*" >&2
  exit 1
}
rm -rf "$work"
mkdir -p "$work"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >cpack.log 2>&1) ||
  fail "cpack failed: $(cat "$work/cpack.log")"
debs=("$work"/costi_*.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "expected one costi_*.deb in $work: ${debs[*]}"
deb=${debs[0]}
echo "package: $(basename "$deb")"
dpkg-deb -I "$deb"

# Dependencies: what dpkg-shlibdeps found in libcosti.so (libc6, libgmp10, libstdc++6). The
# costi executable is static, libedit linked in (a build with COSTI_STATIC_RUNTIME=OFF
# loads libedit.so.2 and the package names libedit2 too).
depends=$(dpkg-deb -f "$deb" Depends)
names=$(sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends")
for need in libc6 libgmp10 libstdc++6; do
  grep -Fqx "$need" <<<"$names" || fail "Depends lacks $need: $depends"
done
[ "$(dpkg-deb -f "$deb" Package)" = costi ] || fail "package name"

root="$work/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/costi \
  usr/share/costi/stdlib/prelude.cost usr/share/costi/kernels/llama.cost \
  usr/share/costi/models/gpt2.cost usr/share/costi/hardware/h100-sxm.cost \
  usr/share/bash-completion/completions/costi usr/share/zsh/vendor-completions/_costi \
  usr/share/fish/vendor_completions.d/costi.fish usr/share/man/man1/costi.1 \
  usr/include/costi/costi.hpp; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done
compgen -G "$root/usr/lib/*costi.so*" >/dev/null || compgen -G "$root/usr/lib/*/libcosti.so*" >/dev/null ||
  fail "the package lacks libcosti.so"
compgen -G "$root/usr/lib/cmake/costi/costiConfig.cmake" >/dev/null ||
  compgen -G "$root/usr/lib/*/cmake/costi/costiConfig.cmake" >/dev/null || fail "the package lacks costiConfig.cmake"

# The extracted costi, run from /: its library is the package's (usr/share/costi).
cd /
costi="$root/usr/bin/costi"
# (Outputs captured whole: grep -q or -m1 closing a pipe early would fail it under pipefail.)
json=$("$costi" run gpt2 --format json)
params=$(grep -m1 '"params": ' <<<"$json")
[ "$params" = '    "params": "124439808",' ] || fail "gpt2 from the package: $params"
"$costi" run llama-3-8b --seq_len 1 --cache_len 4096 --hw h100-sxm >/dev/null || fail "llama-3-8b on h100-sxm"
hardware=$("$costi" list hardware --names)
grep -qx h100-sxm <<<"$hardware" || fail "costi list hardware"

# Would it install here (a Debian 12)? apt-get's simulation resolves the dependencies.
if command -v apt-get >/dev/null; then
  apt-get install -s "$deb" >"$work/apt.log" 2>&1 || fail "apt-get install -s: $(cat "$work/apt.log")"
  grep -q '^Inst costi ' "$work/apt.log" || fail "apt-get would not install costi: $(cat "$work/apt.log")"
fi
echo "costi's .deb builds, unpacks and runs"
