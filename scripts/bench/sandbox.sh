#!/bin/bash
# What the symbolizer's sandbox costs.
#
# 1. Lookups: N random addresses across libc's .text (with libc6-dbg's DWARF, most carry inline
#    chains) resolved in-process and through the sandboxed child (one socket round trip each), by
#    build/tests/sandbox_bench, ROUNDS times each, interleaved: median open time (for the sandbox,
#    with forking and locking down the child), lookup time, lookups per second, CPU seconds (the
#    parent's and the child's), and the slowdown; also with both pinned to one CPU (taskset -c 0),
#    where a round trip needs no cross-CPU wake-up (expensive on a VM's vCPUs).
# 2. Recording: 'scorch record -p PID -d SECS -F HZ' of a running workload (build/workloads/demo) with
#    and without --no-sandbox, ROUNDS times each: median CPU seconds of scorch and its sandbox child
#    (GNU time counts reaped children; the workload is not scorch's child) and the number of distinct
#    folded stacks. Needs root; skipped otherwise.
# 3. DWARF unwinding: 'scorch record -g dwarf -p PID -d SECS -F HZ' of the same workload, with the
#    unwinding in the sandboxed child (batches of samples per round trip), in-process (--no-sandbox),
#    and sandboxed with scorch and its child pinned to one CPU (taskset -c 0): median CPU seconds of
#    scorch and its child, CPU ms per 1000 samples, and samples per batch (the profile's
#    unwind_sandbox_samples / unwind_sandbox_batches; retries after a maps miss included).
# 4. Run right after 1, without root: the commands that parse files outside a recording, with and
#    without --no-sandbox, ROUNDS times each, interleaved: 'scorch symbolize -e LIBC' on the N
#    addresses (standard input), 'scorch symbolize -p PID' on N addresses of the libc of a running
#    'sleep' (arguments), and 'scorch report --resymbolize' of a profile of N distinct nameless libc
#    addresses (written by sandbox_bench profile), next to the same report without --resymbolize:
#    median wall and CPU seconds (scorch and its reaped sandbox child) and the slowdown. These commands
#    keep themselves and their child on one CPU (sandbox__share_cpu); the sandboxed-1cpu rows, under
#    taskset -c 0, show that nothing is left to gain that way.
#
#   scripts/bench/sandbox.sh                   # N=20000 ROUNDS=5 SECS=3 HZ=999
#
# Environment: N, ROUNDS, SECS, HZ, LIBC, OUT (build).
set -u
cd "$(dirname "$0")/../.."
N=${N:-20000}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
HZ=${HZ:-999}
OUT=${OUT:-build}
SCORCH=$PWD/$OUT/scorch
BENCH=$PWD/$OUT/tests/sandbox_bench
LIBC=${LIBC:-$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)}
TIME=/usr/bin/time

[ -x "$BENCH" ] && [ -x "$SCORCH" ] || { echo "sandbox.sh: build first (make && make unit)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "sandbox.sh: GNU time is needed (package time)" >&2; exit 1; }
read -r LO SIZE < <(readelf -SW "$LIBC" | awk '{ sub(/^ *\[ *[0-9]+\] */, "") } $1 == ".text" { print "0x" $3, "0x" $5 }')
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf 'sandbox benchmark, lookups: %d random addresses in %s, %d rounds, median (%s CPUs)\n' "$N" "$LIBC" "$ROUNDS" "$(nproc)"
for ((r = 0; r < ROUNDS; r++)); do
	for m in in-process sandboxed; do
		"$BENCH" "$m" "$LIBC" "$LO" "$SIZE" "$N" >>"$TMP/$m" || exit 1
	done
	# Both processes on one CPU: a round trip without cross-CPU wake-ups.
	taskset -c 0 "$BENCH" sandboxed "$LIBC" "$LO" "$SIZE" "$N" | sed 's/^sandboxed/sandboxed-1cpu/' >>"$TMP/sandboxed-1cpu" || exit 1
done
printf '%-14s %9s %10s %12s %11s %11s %8s\n' mode "open ms" "lookup s" "lookups/s" "parent CPU" "child CPU" frames
for m in in-process sandboxed sandboxed-1cpu; do
	printf '%-14s %9.2f %10.3f %12.0f %11.3f %11.3f %8s\n' "$m" \
		"$(awk '{ print $2 * 1000 }' "$TMP/$m" | median)" "$(awk '{ print $3 }' "$TMP/$m" | median)" \
		"$(awk '{ print $4 }' "$TMP/$m" | median)" "$(awk '{ print $5 }' "$TMP/$m" | median)" \
		"$(awk '{ print $6 }' "$TMP/$m" | median)" "$(awk 'NR == 1 { print $7 }' "$TMP/$m")"
done
a=$(awk '{ print $3 }' "$TMP/in-process" | median)
for m in sandboxed sandboxed-1cpu; do
	b=$(awk '{ print $3 }' "$TMP/$m" | median)
	awk -v a="$a" -v b="$b" -v n="$N" -v m="$m" 'BEGIN { printf "%s: lookups take %.2fx as long, +%.1f us per lookup\n", m, b / a, (b - a) * 1e6 / n }'
done

# 3. symbolize -e, symbolize -p, report --resymbolize.
readelf -SW "$LIBC" | awk -v n="$N" -v lo="$LO" -v size="$SIZE" '
	function hex(s,    v, i) { s = tolower(substr(s, 3)); v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
	BEGIN { srand(3); for (i = 0; i < n; i++) printf "0x%x\n", hex(lo) + int(rand() * hex(size)) }' >"$TMP/addrs"
"$BENCH" profile "$LIBC" "$LO" "$SIZE" "$N" "$TMP/resym.prof" >/dev/null || exit 1
sleep 1000 &
SPID=$!
trap 'rm -rf "$TMP"; kill "$SPID" 2>/dev/null; [ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null' EXIT
sleep 0.2
# The libc mapping of the sleeper that holds .text: runtime address = start - offset + file offset of
# the address; for libc's PT_LOADs, file offset = vaddr (checked: the output must name functions).
read -r MSTART MOFF < <(awk -v p="$LIBC" '$6 == p && $2 ~ /x/ { split($1, r, "-"); print r[1], $3; exit }' "/proc/$SPID/maps")
[ -n "${MSTART:-}" ] || { echo "sandbox.sh: no executable mapping of $LIBC in the sleeper" >&2; exit 1; }
PADDRS=()
while read -r a; do PADDRS+=("$(printf '0x%x' $((0x$MSTART - 0x$MOFF + a)))"); done <"$TMP/addrs"
run3() { # KIND MODE: one timed run into $TMP/c.KIND.MODE (CPU) and $TMP/w.KIND.MODE (wall)
	local flag= t0 pin=()
	[ "$2" = in-process ] && flag=--no-sandbox
	[ "$2" = sandboxed-1cpu ] && pin=(taskset -c 0)
	t0=$(date +%s%N)
	case $1 in
	symbolize-e) $TIME -f '%e %U %S' -o "$TMP/t" "${pin[@]}" "$SCORCH" symbolize $flag -e "$LIBC" <"$TMP/addrs" >"$TMP/o.$1.$2" ;;
	symbolize-p) $TIME -f '%e %U %S' -o "$TMP/t" "${pin[@]}" "$SCORCH" symbolize $flag -p "$SPID" "${PADDRS[@]}" >"$TMP/o.$1.$2" ;;
	resymbolize) $TIME -f '%e %U %S' -o "$TMP/t" "${pin[@]}" "$SCORCH" report --resymbolize $flag -n 0 -i "$TMP/resym.prof" >"$TMP/o.$1.$2" ;;
	report) $TIME -f '%e %U %S' -o "$TMP/t" "$SCORCH" report -n 0 -i "$TMP/resym.prof" >"$TMP/o.$1.$2" ;;
	esac || exit 1
	echo $((($(date +%s%N) - t0) / 1000)) | awk '{ print $1 / 1e6 }' >>"$TMP/w.$1.$2"
	awk '{ print $2 + $3 }' "$TMP/t" >>"$TMP/c.$1.$2"
}
printf '\nsandbox benchmark, commands: %d addresses in %s, %d rounds, median\n' "$N" "$LIBC" "$ROUNDS"
for ((r = 0; r < ROUNDS; r++)); do
	for k in symbolize-e symbolize-p resymbolize; do
		for m in in-process sandboxed sandboxed-1cpu; do run3 $k $m; done
	done
	run3 report plain
done
printf '%-44s %8s %8s %9s %9s\n' command "wall s" "CPU s" "lines" slowdown
for k in symbolize-e symbolize-p resymbolize report; do
	case $k in
	symbolize-e) what="symbolize -e LIBC <addrs" ;;
	symbolize-p) what="symbolize -p PID addrs..." ;;
	resymbolize) what="report --resymbolize -n 0" ;;
	report) what="report -n 0 (no --resymbolize)" ;;
	esac
	modes="in-process sandboxed sandboxed-1cpu"
	[ $k = report ] && modes=plain
	for m in $modes; do
		w=$(median <"$TMP/w.$k.$m")
		slow=
		[ "${m#sandboxed}" != "$m" ] && slow=$(awk -v a="$(median <"$TMP/w.$k.in-process")" -v b="$w" 'BEGIN { printf "%.2fx", (a > 0 ? b / a : 0) }')
		printf '%-44s %8.3f %8.3f %9s %9s\n' "$what${m:+ ($m)}" "$w" "$(median <"$TMP/c.$k.$m")" "$(wc -l <"$TMP/o.$k.$m")" "$slow"
	done
done
for k in symbolize-e symbolize-p resymbolize; do
	for m in sandboxed sandboxed-1cpu; do
		cmp -s "$TMP/o.$k.in-process" "$TMP/o.$k.$m" || echo "warning: $k: the outputs differ in-process and $m"
	done
done
grep -q '^[a-z_]' "$TMP/o.symbolize-p.sandboxed" || echo "warning: symbolize -p named nothing (the address translation is off)"

if [ "$(id -u)" != 0 ]; then
	echo "recording: skipped (needs root)"
	exit 0
fi
"$OUT/workloads/demo" 1000 >/dev/null 2>&1 &
WPID=$!
sleep 0.5
printf '\nsandbox benchmark, recording: scorch record -p PID -d %s -F %s (build/workloads/demo), %d rounds, median\n' "$SECS" "$HZ" "$ROUNDS"
for ((r = 0; r < ROUNDS; r++)); do
	for m in sandboxed in-process; do
		flag=
		[ $m = in-process ] && flag=--no-sandbox
		# shellcheck disable=SC2086
		$TIME -f '%U %S' -o "$TMP/t" "$SCORCH" record -q $flag -F "$HZ" -d "$SECS" -p "$WPID" -o "$TMP/p.prof" || exit 1
		awk '{ print $1 + $2 }' "$TMP/t" >>"$TMP/rec.$m"
		"$SCORCH" folded -i "$TMP/p.prof" | wc -l >>"$TMP/loc.$m"
	done
done
printf '%-11s %12s %10s\n' mode "record CPU s" stacks
for m in in-process sandboxed; do
	printf '%-11s %12.3f %10s\n' "$m" "$(median <"$TMP/rec.$m")" "$(median <"$TMP/loc.$m")"
done

printf '\nsandbox benchmark, DWARF unwinding: scorch record -g dwarf -p PID -d %s -F %s (build/workloads/demo), %d rounds, median\n' "$SECS" "$HZ" "$ROUNDS"
for ((r = 0; r < ROUNDS; r++)); do
	for m in sandboxed in-process sandboxed-1cpu; do
		pre=() flag=
		[ $m = in-process ] && flag=--no-sandbox
		[ $m = sandboxed-1cpu ] && pre=(taskset -c 0)
		# shellcheck disable=SC2086
		$TIME -f '%U %S' -o "$TMP/t" "${pre[@]}" "$SCORCH" record -q -g dwarf $flag -F "$HZ" -d "$SECS" -p "$WPID" \
			-o "$TMP/d.prof" || exit 1
		"$SCORCH" info -i "$TMP/d.prof" >"$TMP/info"
		awk -v f="$TMP/info" 'BEGIN { while ((getline l < f) > 0) { split(l, a, " "); c[a[1]] = a[2] } }
			{ cpu = $1 + $2; n = c["samples"]; b = c["unwind_sandbox_batches"]
			  printf "%.3f %.2f %s %s\n", cpu, n ? 1e6 * cpu / n : 0, n, b ? sprintf("%.1f", c["unwind_sandbox_samples"] / b) : "-" }' \
			"$TMP/t" >>"$TMP/dw.$m"
	done
done
printf '%-15s %12s %14s %9s %18s\n' mode "record CPU s" "ms/1000 smp" samples "samples per batch"
for m in in-process sandboxed sandboxed-1cpu; do
	printf '%-15s %12.3f %14.2f %9s %18s\n' "$m" "$(awk '{ print $1 }' "$TMP/dw.$m" | median)" \
		"$(awk '{ print $2 }' "$TMP/dw.$m" | median)" "$(awk '{ print $3 }' "$TMP/dw.$m" | median)" \
		"$(awk '{ print $4 }' "$TMP/dw.$m" | median)"
done
