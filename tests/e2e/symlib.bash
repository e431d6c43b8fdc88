# Shared by the symbolizer end-to-end tests (tests/e2e/symbolize_*.sh): sourced, not run. These tests
# need no root and no BPF: they compile fixtures and compare 'scorch symbolize' with known answers
# and with the peers (eu-addr2line, addr2line, llvm-addr2line).
set -u
SCORCH=${SCORCH:?SCORCH must point at the scorch binary}
TESTS=${TESTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() {
	echo "  $*" >&2
}

# skip WHY: exit 77, except in CI where a missing tool is a failure.
skip() {
	[ -n "${CI:-}" ] && fail "cannot run: $*"
	echo "SKIP: *** $* ***" >&2
	exit 77
}

need() {
	command -v "$1" >/dev/null 2>&1 || skip "'$1' is not installed (scripts/install-deps.sh test)"
}

# random_text_addrs FILE N SEED: N random addresses (hex) inside FILE's .text section.
random_text_addrs() {
	readelf -SW "$1" | awk -v n="$2" -v seed="$3" '
		function hex(s,    v, i) {
			v = 0
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		{ sub(/^ *\[ *[0-9]+\] */, "") }
		$1 == ".text" { lo = hex($3); size = hex($5) }
		END {
			if (!size) exit 1
			srand(seed)
			for (i = 0; i < n; i++) printf "0x%x\n", lo + int(rand() * size)
		}'
}

# equivalent WHAT REFERENCE_OUTPUT SCORCH_OUTPUT MIN_PERMILLE: compare two -a outputs line by line;
# print the disagreements (the first 40) and fail below MIN_PERMILLE agreeing lines.
equivalent() {
	local what=$1 ref=$2 ours=$3 min=$4 res agree total
	res=$(awk -f "$TESTS/e2e/symcompare.awk" "$ref" "$ours") || fail "comparing $what failed"
	grep '^DIFF' <<<"$res" | head -40 | cut -c1-300 | sed 's/^/    /' >&2
	read -r agree total < <(tail -1 <<<"$res" | awk '{ print $2, $4 }')
	[ "${total:-0}" -gt 0 ] || fail "$what: nothing compared"
	note "$what: $agree of $total lines agree ($(awk -v a="$agree" -v t="$total" 'BEGIN { printf "%.2f", 100 * a / t }')%)"
	[ $((agree * 1000)) -ge $((total * min)) ] || fail "$what: agreement below $min per mille"
}
