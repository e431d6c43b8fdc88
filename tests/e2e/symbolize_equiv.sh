#!/bin/bash
# Equivalence: for thousands of random addresses across libc (with Debian's libc6-dbg) and across
# C++ fixtures, 'scorch symbolize -a' must agree with the reference symbolizers on at least 99.5% of
# the lines: eu-addr2line -f -i -C for libc and the gcc build (DWARF with .debug_aranges);
# llvm-addr2line for the clang build, which has no .debug_aranges (elfutils 0.188 prints ??:0 there,
# and binutils 2.40 drops the innermost inlined frame of clang's DWARF 5 on about a fifth of lines).
# The comparison ignores column numbers and eu-addr2line's "inlined at" annotations (symcompare.awk).
. "$(dirname "$0")/symlib.bash"
need eu-addr2line
need g++
need clang++

LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)
[ -f "$LIBC" ] || skip "no /lib/x86_64-linux-gnu/libc.so.6"
BID=$(readelf -n "$LIBC" | awk '/Build ID/ { print $3 }')
[ -f "/usr/lib/debug/.build-id/${BID:0:2}/${BID:2}.debug" ] || skip "libc6-dbg is not installed (no debuginfo for $LIBC)"

# libc: 4000 addresses
random_text_addrs "$LIBC" 4000 11 >"$TMP/libc.addrs" || fail "no .text in $LIBC"
eu-addr2line -a -f -i -C -e "$LIBC" <"$TMP/libc.addrs" >"$TMP/libc.eu" || fail "eu-addr2line failed"
"$SCORCH" symbolize -a -e "$LIBC" <"$TMP/libc.addrs" >"$TMP/libc.scorch" || fail "scorch symbolize failed on libc"
# scorch found libc's DWARF in the separate debuginfo: a known inlined function must show up.
grep -q '^\./\|^\.\./' "$TMP/libc.scorch" || fail "no source files in libc output: debuginfo not found?"
equivalent "libc vs eu-addr2line" "$TMP/libc.eu" "$TMP/libc.scorch" 995

# C++ fixture built by gcc: 3000 addresses against eu-addr2line
g++ -O2 -g -o "$TMP/cxx_gcc" "$TESTS/fixtures/symfix.cc" || fail "g++ failed"
random_text_addrs "$TMP/cxx_gcc" 3000 12 >"$TMP/gcc.addrs"
eu-addr2line -a -f -i -C -e "$TMP/cxx_gcc" <"$TMP/gcc.addrs" >"$TMP/gcc.eu"
"$SCORCH" symbolize -a -e "$TMP/cxx_gcc" <"$TMP/gcc.addrs" >"$TMP/gcc.scorch" || fail "scorch symbolize failed"
equivalent "g++ fixture vs eu-addr2line" "$TMP/gcc.eu" "$TMP/gcc.scorch" 995

# C++ fixture built by clang (no .debug_aranges): 3000 addresses against llvm-addr2line
clang++ -O2 -g -o "$TMP/cxx_clang" "$TESTS/fixtures/symfix.cc" || fail "clang++ failed"
readelf -SW "$TMP/cxx_clang" | grep -q debug_aranges && note "clang emitted .debug_aranges: the test is weaker"
random_text_addrs "$TMP/cxx_clang" 3000 13 >"$TMP/clang.addrs"
"$SCORCH" symbolize -a -e "$TMP/cxx_clang" <"$TMP/clang.addrs" >"$TMP/clang.scorch" || fail "scorch symbolize failed"
# elfutils 0.188 cannot do this at all; scorch must name lines.
grep -q 'symfix.cc:[1-9]' "$TMP/clang.scorch" || fail "no lines resolved in a binary without .debug_aranges"
LLVM=$(command -v llvm-addr2line || ls /usr/lib/llvm-*/bin/llvm-addr2line 2>/dev/null | head -1)
[ -n "$LLVM" ] || skip "llvm-addr2line is not installed (package llvm)"
"$LLVM" -a -f -i -C -e "$TMP/cxx_clang" <"$TMP/clang.addrs" >"$TMP/clang.llvm"
equivalent "clang++ fixture (no aranges) vs llvm-addr2line" "$TMP/clang.llvm" "$TMP/clang.scorch" 995
exit 0
