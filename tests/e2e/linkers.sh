# DWARF unwinding of executables from every linker on the machine. lld and mold pack segments so
# that one file page holds the end of the read-only segment and the start of the text segment, at
# virtual addresses a page apart (p_vaddr - p_offset = 0x1000 for the text): the load bias must come
# from the segment that holds the address, not the first one that holds the mapping's page. Before
# that fix, 0-2% of an lld binary's samples reached main (every other one an unwind failure), against
# 100% for GNU ld. Each variant is built here without frame pointers, PIE and not, with GNU ld, lld,
# mold (when installed), by rustc (which links with lld) and by Go (whose linker writes no .eh_frame
# and a zlib-compressed .debug_frame: without inflating it, 0% of a Go program's samples reached a
# root with -g dwarf); every sample in the hot leaf must reach main through mid, and no unwind may
# fail. A variant whose toolchain is absent is skipped by name.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/wl.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static volatile uint64_t sink;
__attribute__((noinline)) void leaf(uint64_t k) { uint64_t x = sink + k; for (int i = 0; i < 20000; i++) x = x * 31 + i; sink = x; }
__attribute__((noinline)) void mid(uint64_t k) { volatile char pad[64]; pad[0] = (char)k; for (int i = 0; i < 4; i++) leaf(k + pad[0] + i); sink++; }
int main(int argc, char **argv) {
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);
	uint64_t n = 0;
	while (time(NULL) < end) mid(n++);
	return 0;
}
C

cat >"$TMP/wl.rs" <<'RS'
use std::hint::black_box;
#[inline(never)]
fn leaf(x: u64) -> u64 { let mut v = x; for i in 0..20000u64 { v = v.wrapping_mul(31).wrapping_add(i); } black_box(v) }
#[inline(never)]
fn mid(x: u64) -> u64 { let mut s = 0u64; for i in 0..4 { s = s.wrapping_add(leaf(black_box(x + i))); } s }
fn main() {
    let secs: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let (mut s, mut n) = (0u64, 0u64);
    while std::time::Instant::now() < end { s = s.wrapping_add(mid(black_box(n))); n += 1; }
    std::process::exit((s == 1) as i32);
}
RS

mkdir -p "$TMP/gosrc"
cat >"$TMP/gosrc/main.go" <<'GO'
package main

import (
	"os"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func leaf(k uint64) uint64 { x := k; for i := uint64(0); i < 20000; i++ { x = x*31 + i }; return x }

//go:noinline
func mid(k uint64) uint64 { s := uint64(0); for i := uint64(0); i < 4; i++ { s += leaf(k + i) }; return s }

func main() {
	secs, _ := strconv.Atoi(os.Args[1])
	end := time.Now().Add(time.Duration(secs) * time.Second)
	for n := uint64(0); time.Now().Before(end); n++ { sink += mid(n) }
}
GO

CFLAGS="-O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls"
DFLAGS="-fno-asynchronous-unwind-tables -fno-unwind-tables" # call frame information in .debug_frame only
# name | toolchain needed | build command ($1 = output)
variants=(
	"gnu-ld-gcc-pie|gcc|gcc $CFLAGS -fPIE -pie -o \$1 $TMP/wl.c"
	"gnu-ld-clang-nopie|clang|clang $CFLAGS -fno-PIE -no-pie -fuse-ld=bfd -o \$1 $TMP/wl.c"
	"lld-clang-pie|ld.lld|clang $CFLAGS -fPIE -pie -fuse-ld=lld -o \$1 $TMP/wl.c"
	"lld-clang-nopie|ld.lld|clang $CFLAGS -fno-PIE -no-pie -fuse-ld=lld -o \$1 $TMP/wl.c"
	"lld-gcc-pie|ld.lld|gcc $CFLAGS -fPIE -pie -fuse-ld=lld -o \$1 $TMP/wl.c"
	"lld-clang-debug-frame|ld.lld|clang $CFLAGS $DFLAGS -fPIE -pie -fuse-ld=lld -o \$1 $TMP/wl.c"
	"mold-gcc-pie|mold|gcc $CFLAGS -fPIE -pie -fuse-ld=mold -o \$1 $TMP/wl.c"
	"rustc|rustc|rustc -C opt-level=2 -g -C force-frame-pointers=no -o \$1 $TMP/wl.rs"
	"go|go|cd $TMP/gosrc && GO111MODULE=off GOCACHE=$TMP/gocache go build -o \$1 main.go"
)

ran=0 lld_ran=0
for v in "${variants[@]}"; do
	IFS='|' read -r name tool build <<<"$v"
	if ! command -v "$tool" >/dev/null; then
		note "SKIP variant '$name': *** '$tool' is not installed: this linker/toolchain is not tested ***"
		continue
	fi
	wl=$TMP/$name
	bash -c "$build" _ "$wl" >"$TMP/$name.build" 2>&1 || { cat "$TMP/$name.build" >&2; fail "$name: cannot build the workload"; }
	# What makes the variant worth testing: the text segment's vaddr - offset, and no frame pointers.
	read -r off vaddr <<<"$(readelf -lW "$wl" | awk '$1 == "LOAD" && / R?W?E / { print $2, $3; exit }')"
	[ -n "$off" ] || fail "$name: no executable PT_LOAD"
	delta=$(printf '0x%x' $((vaddr - off)))
	case $name in
	lld-*|mold-*|rustc) [ "$delta" != 0x0 ] || fail "$name: the text segment's vaddr equals its offset: the variant tests nothing" ;;
	go) readelf -SW "$wl" | grep -E '\.debug_frame .* C ' >/dev/null ||
		fail "go: .debug_frame is not compressed: the variant tests nothing" ;;
	esac
	p=$TMP/$name.prof
	"$SCORCH" record -q -g dwarf -F 499 -o "$p" -- "$wl" 2 || fail "$name: record -g dwarf failed"
	folded "$p" >"$TMP/$name.folded"
	read -r inleaf complete <<<"$(awk '{ n = $NF } /(^|;)([a-z_]+::|main\.)?leaf( |;)/ { t += n; if ($0 ~ /(^|;)([a-z_]+::|main\.)?main;([^;]*;)*([a-z_]+::|main\.)?mid;([a-z_]+::|main\.)?leaf( |;)/) c += n } END { print t + 0, c + 0 }' "$TMP/$name.folded")"
	failed=$("$SCORCH" info -i "$p" | awk -v k="unwind_failed:$name" '$1 == k { print $NF }')
	root=$("$SCORCH" info -i "$p" | awk '$1 == "unwind_root_share" { print $2 }')
	note "$name (text vaddr-offset $delta): $inleaf samples in leaf, $complete reach main;mid;leaf, unwind_failed ${failed:-0}, root share $root"
	[ "$inleaf" -ge 100 ] || fail "$name: only $inleaf samples in leaf"
	[ "$complete" -eq "$inleaf" ] || fail "$name: $((inleaf - complete)) of $inleaf samples in leaf do not reach main through mid"
	# Go's runtime switches stacks (systemstack, mcall, gogo) and preempts by signal; a sample caught
	# in the middle of such a switch has no CFI that describes it, in perf as in scorch. Those are rare
	# and counted: allow them up to 1% of the workload's samples. Every other variant has none.
	case $name in
	go) total=$(awk '{ t += $NF } END { print t + 0 }' "$TMP/$name.folded")
	    [ $(( ${failed:-0} * 100 )) -le "$total" ] || fail "go: $failed unwind failures in $total samples (more than 1%)" ;;
	*) [ "${failed:-0}" = 0 ] || fail "$name: $failed unwind failures in the workload" ;;
	esac
	# The names come from the same address arithmetic after the fact, from the raw addresses.
	"$SCORCH" report -i "$p" --resymbolize --no-header -n 0 | grep -qE '(^| )([a-z_]+::|main\.)?leaf +' ||
		fail "$name: report --resymbolize does not name leaf"
	ran=$((ran + 1))
	case $name in lld-*) lld_ran=$((lld_ran + 1)) ;; esac
done
# lld comes with make test's packages; without it this test proves nothing of what it is for.
[ "$lld_ran" -gt 0 ] || fail "no lld variant ran: install lld (make test does)"
note "$ran variants unwound completely"
exit 0
