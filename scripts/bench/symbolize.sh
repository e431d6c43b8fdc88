#!/bin/bash
# Symbolizer speed: N random addresses across libc's .text (Debian's libc6-dbg supplies the DWARF, so
# most answers carry inline chains), resolved with function, file:line and inlines (the equivalent
# of 'addr2line -f -i -C') by scorch and by its peers on the same input, each run ROUNDS times.
# Prints, per tool: the median wall time and CPU time (user + system of the tool and its reaped
# children, so scorch's sandbox child counts: less disturbed by other load on the machine), addresses
# per CPU second, peak memory (max RSS) and the number of output lines; then what the sandbox costs
# (scorch against 'scorch symbolize --no-sandbox', in-process) and scorch's speed-up (in CPU time)
# over each peer.
#
#   scripts/bench/symbolize.sh                 # N=20000 ROUNDS=3
#   N=2000 ROUNDS=5 scripts/bench/symbolize.sh
#
# Environment: N, ROUNDS, SEED (1), LIBC (the libc to read), SCORCH (build/scorch).
set -u
cd "$(dirname "$0")/../.."
N=${N:-20000}
ROUNDS=${ROUNDS:-3}
SEED=${SEED:-1}
SCORCH=${SCORCH:-$PWD/build/scorch}
LIBC=${LIBC:-$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)}
TIME=/usr/bin/time

[ -x "$SCORCH" ] || { echo "symbolize.sh: build scorch first (make)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "symbolize.sh: GNU time is needed (package time)" >&2; exit 1; }
BID=$(readelf -n "$LIBC" | awk '/Build ID/ { print $3 }')
[ -f "/usr/lib/debug/.build-id/${BID:0:2}/${BID:2}.debug" ] ||
	echo "symbolize.sh: warning: no debuginfo for $LIBC (install libc6-dbg): symbol tables only" >&2

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
readelf -SW "$LIBC" | awk -v n="$N" -v seed="$SEED" '
	function hex(s,    v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
	{ sub(/^ *\[ *[0-9]+\] */, "") }
	$1 == ".text" { lo = hex($3); size = hex($5) }
	END { srand(seed); for (i = 0; i < n; i++) printf "0x%x\n", lo + int(rand() * size) }' >"$TMP/addrs"

LLVM=$(command -v llvm-symbolizer || ls /usr/lib/llvm-*/bin/llvm-symbolizer 2>/dev/null | head -1)
tools=(scorch scorch-no-sandbox addr2line eu-addr2line llvm-symbolizer)
cmd_for() {
	case $1 in
	scorch) echo "$SCORCH symbolize -e $LIBC" ;;
	scorch-no-sandbox) echo "$SCORCH symbolize --no-sandbox -e $LIBC" ;;
	addr2line) command -v addr2line >/dev/null && echo "addr2line -f -i -C -e $LIBC" ;;
	eu-addr2line) command -v eu-addr2line >/dev/null && echo "eu-addr2line -f -i -C -e $LIBC" ;;
	llvm-symbolizer) [ -n "$LLVM" ] && echo "$LLVM --obj=$LIBC --functions=linkage --inlining --demangle" ;;
	esac
}

printf 'symbolize benchmark: %d random addresses in %s (%s), %d rounds, median\n' "$N" "$LIBC" \
	"$(nproc) CPUs" "$ROUNDS"
printf '%-16s %9s %9s %14s %11s %8s\n' tool "wall s" "CPU s" "addresses/s" "max RSS MB" "lines"
declare -A secs walls_of
for t in "${tools[@]}"; do
	cmd=$(cmd_for "$t")
	if [ -z "$cmd" ]; then
		printf '%-16s %10s\n' "$t" "(not installed)"
		continue
	fi
	walls=() cpus=() rss=0
	for ((r = 0; r < ROUNDS; r++)); do
		# shellcheck disable=SC2086
		$TIME -f '%e %U %S %M' -o "$TMP/time" $cmd <"$TMP/addrs" >"$TMP/out.$t" 2>/dev/null
		read -r w u sy m <"$TMP/time"
		walls+=("$w")
		cpus+=("$(awk -v u="$u" -v s="$sy" 'BEGIN { print u + s }')")
		[ "$m" -gt "$rss" ] && rss=$m
	done
	median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
	wall=$(median "${walls[@]}")
	cpu=$(median "${cpus[@]}")
	secs[$t]=$cpu
	walls_of[$t]=$wall
	printf '%-16s %9.2f %9.2f %14.0f %11.1f %8d\n' "$t" "$wall" "$cpu" \
		"$(awk -v n="$N" -v s="$cpu" 'BEGIN { print (s > 0 ? n / s : 0) }')" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(wc -l <"$TMP/out.$t")"
done
cmp -s "$TMP/out.scorch" "$TMP/out.scorch-no-sandbox" ||
	echo "symbolize.sh: warning: scorch's output differs with and without the sandbox" >&2
printf 'sandboxed/in-process: %.2fx the CPU time, %.2fx the wall time\n' \
	"$(awk -v a="${secs[scorch]}" -v b="${secs[scorch-no-sandbox]}" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
	"$(awk -v a="${walls_of[scorch]}" -v b="${walls_of[scorch-no-sandbox]}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
for t in "${tools[@]}"; do
	[[ $t = scorch* ]] || [ -z "${secs[$t]:-}" ] && continue
	printf 'scorch vs %-16s %6.1fx less CPU time\n' "$t:" "$(awk -v a="${secs[$t]}" -v b="${secs[scorch]}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
