# -g auto (the default) unwinds user stacks in the BPF program from tables the sandbox builds out of
# the call frame information: no stack copy, so a stack deeper than any copy (deep: 40 frames of
# 1 KiB) reaches _start, where -g dwarf's 16 KiB copy cuts it. Samples taken before a process's
# tables are loaded fall back to the copy, counted. The counters agree with each other and with the
# stacks: every stack unwound in the kernel reached the root (or the 127-frame cap, counted), and the
# tables of one binary are built once for all the processes that map it; forked workers use them.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 499 -o "$TMP/auto.prof" -- "$WL/deep" 3 || fail "record failed"
"$SCORCH" record -q -F 499 -g dwarf -o "$TMP/dwarf.prof" -- "$WL/deep" 3 || fail "record -g dwarf failed"
[ "$(meta "$TMP/auto.prof" call_graph)" = "auto,16384" ] || fail "the default mode is not auto"

n=$(counter "$TMP/auto.prof" samples)
k=$(counter "$TMP/auto.prof" unwind_kernel)
ks=$(counter "$TMP/auto.prof" unwind_kernel_stacks)
kr=$(counter "$TMP/auto.prof" unwind_kernel_root)
fb=$(counter "$TMP/auto.prof" unwind_fallback)
nt=$(counter "$TMP/auto.prof" unwind_fallback_no_tables)
tables=$(counter "$TMP/auto.prof" unwind_tables)
note "auto: $n samples, $k unwound in the kernel ($kr to the root), $fb fell back ($nt before the tables), $tables tables"
[ "$k" -ge 50 ] || fail "only $k samples unwound in the kernel"
# The BPF program counts before the ring buffer, so a sample lost there counts in unwind_kernel only.
lost=$(counter "$TMP/auto.prof" lost)
[ "$ks" -le "$k" ] && [ "$k" -le $((ks + lost)) ] ||
	fail "the BPF program unwound $k stacks, the recorder got $ks, $lost samples were lost"
[ "$kr" -eq "$ks" ] || fail "$((ks - kr)) of $ks stacks unwound in the kernel did not reach the root"
[ $((k + fb)) -le $((n + lost)) ] || fail "$k unwound and $fb fallbacks for $n samples and $lost lost"
[ "$tables" -ge 2 ] || fail "$tables tables loaded: deep and libc at least"
[ "$(counter "$TMP/auto.prof" unwind_tables_failed)" -eq 0 ] || fail "a table could not be built"
# Every stack through descend() that the kernel unwound is complete: at least that many reach _start.
full="^_start;__libc_start_main(_impl)?;([^;]+;)?main;$(printf 'descend;%.0s' $(seq 40))deep_leaf"
m=$(matching "$TMP/auto.prof" "$full")
note "auto: $m samples with the whole 40-deep chain from _start"
# (A sample taken as the process exits, past deep_leaf, is unwound too: allow a few.)
[ $((10 * m)) -ge $((9 * ks)) ] || fail "$m complete stacks, for $ks unwound in the kernel"
d=$(matching "$TMP/dwarf.prof" "$full")
cut=$(counter "$TMP/dwarf.prof" unwind_truncated)
note "dwarf (16 KiB copy): $d complete stacks, $cut cut at the end of the copy"
[ "$cut" -ge 1 ] || fail "-g dwarf cut no stack: the workload is not deeper than the copy"

# -g copy: the stack copy for every sample, nothing unwound in the kernel, the stacks as deep as the copy.
"$SCORCH" record -q -F 499 -g copy -o "$TMP/copy.prof" -- "$WL/deep" 1 || fail "record -g copy failed"
[ "$(meta "$TMP/copy.prof" call_graph)" = "copy,16384" ] || fail "-g copy not recorded as such"
[ "$(counter "$TMP/copy.prof" unwind_kernel)" -eq 0 ] || fail "-g copy unwound in the kernel"
[ "$(counter "$TMP/copy.prof" unwind_truncated)" -ge 1 ] || fail "-g copy cut no stack at the copy's end"

# Tables that do not fit (clang's LLVM libraries take ~16 MiB of rows; here 1 MiB is given): counted,
# named at the end with a size to try, and those samples unwound from the copy instead.
if command -v clang >/dev/null; then
	for i in $(seq 4000); do printf 'int f%d(int x) { return x * %d + (x >> 3); }\n' "$i" "$i"; done >"$TMP/gen.c"
	"$SCORCH" record -F 999 --unwind-table-size 1M -o "$TMP/small.prof" -- clang -O2 -c "$TMP/gen.c" \
		-o "$TMP/gen.o" 2>"$TMP/small.err" || fail "record of clang failed: $(cat "$TMP/small.err")"
	nr=$(counter "$TMP/small.prof" unwind_tables_no_room)
	note "clang with 1 MiB of tables: $nr files did not fit"
	[ "$nr" -ge 1 ] || fail "no table was counted as not fitting in 1 MiB"
	hint=$(sed -nE 's/.*did not fit in 1M: .* record with --unwind-table-size ([0-9]+)M$/\1/p' "$TMP/small.err")
	[ -n "$hint" ] || fail "no hint about the table size: $(cat "$TMP/small.err")"
	# The size named holds what was loaded and what did not fit: LLVM's libraries alone take ~16M.
	rows=$(($(counter "$TMP/small.prof" unwind_table_rows_peak) + $(counter "$TMP/small.prof" unwind_table_rows_no_room)))
	note "hint: --unwind-table-size ${hint}M for $rows rows"
	[ $((hint << 20)) -ge $((rows * 8)) ] && [ "$hint" -gt 1 ] || fail "the size named (${hint}M) holds not $rows rows"
else
	echo "SKIP: *** clang not installed: the table-size check did not run ***" >&2
fi

# Deeper than the 127 frames a sample holds: cut there, counted, not fallen back.
"$SCORCH" record -q -F 499 -o "$TMP/cap.prof" -- "$WL/deep" 2 200 || fail "record of 200 frames failed"
cap=$(counter "$TMP/cap.prof" unwind_kernel_depth_cap)
k=$(counter "$TMP/cap.prof" unwind_kernel)
note "200 frames: $cap of $k kernel unwinds cut at the cap"
[ "$k" -ge 20 ] || fail "only $k samples unwound in the kernel at 200 frames"
[ "$cap" -ge $((k * 9 / 10)) ] || fail "only $cap of $k unwinds of a 200-frame stack hit the cap"

# A server's workers, forked and not exec'd, map what it mapped: they use its tables from their first
# sample (short-lived workers never live to have their own), and no table is built per worker.
"$SCORCH" record -q -F 499 -o "$TMP/fork.prof" -- "$WL/forker" 3 || fail "record of forker failed"
children=$(counter "$TMP/fork.prof" children_followed)
tables=$(counter "$TMP/fork.prof" unwind_tables)
k=$(counter "$TMP/fork.prof" unwind_kernel)
fb=$(counter "$TMP/fork.prof" unwind_fallback)
w=$(matching "$TMP/fork.prof" "^_start;.*main;.*worker_burn( |;)")
note "forker: $children workers, $tables tables; $k samples unwound in the kernel, $fb fell back; $w complete in worker_burn"
[ "$children" -ge 10 ] || fail "only $children workers followed"
[ "$tables" -lt "$children" ] || fail "$tables tables for $children workers: not shared"
[ "$k" -gt "$fb" ] || fail "the workers' samples fell back ($fb) more than they were unwound in the kernel ($k)"
[ "$w" -ge 50 ] || fail "only $w complete stacks in the workers"

# Processes exec'd one after another, each too short-lived to get an entry of its own in time (a
# build's compilers): once one of them had its files' tables loaded, the next ones are unwound with
# the tables found by their files (device, inode, change time) from their first samples.
"$SCORCH" record -q -F 999 -o "$TMP/exec.prof" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do "$1" 0.15 40 >/dev/null; done' sh "$WL/deep" ||
	fail "record of the exec loop failed"
keyed=$(counter "$TMP/exec.prof" unwind_table_files_keyed)
byfile=$(counter "$TMP/exec.prof" unwind_kernel_by_file)
k=$(counter "$TMP/exec.prof" unwind_kernel)
c=$(matching "$TMP/exec.prof" "^_start;__libc_start_main.*;main;descend;.*deep_leaf")
note "exec loop: $keyed files keyed, $byfile of $k stacks unwound in the kernel by their files, $c complete"
[ "$keyed" -ge 2 ] || fail "only $keyed files made findable by their file"
[ "$byfile" -gt 0 ] || fail "no stack was unwound with tables found by their files"
[ "$byfile" -le "$k" ] || fail "$byfile stacks by file, more than the $k unwound in the kernel"
exit 0
