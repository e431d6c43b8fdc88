# Shared by the end-to-end tests: sourced, not run.
#
# Each test records real workloads with the BPF sampler. Outside CI a machine without root or BTF
# skips them (exit 77) with a loud message; in CI (CI set) that is a failure, never a skip.
set -u
SCORCH=${SCORCH:?SCORCH must point at the scorch binary}
WL=${WL:?WL must point at the built workloads}
TMP=$(mktemp -d)
chmod 755 "$TMP"
trap 'cleanup_pids; rm -rf "$TMP"' EXIT
BG_PIDS=()

cleanup_pids() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	return 0
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() {
	echo "  $*" >&2
}

require_bpf() {
	local why=""
	[ "$(id -u)" = 0 ] || why="not running as root"
	[ -z "$why" ] && [ ! -e /sys/kernel/btf/vmlinux ] && why="the kernel has no BTF"
	if [ -n "$why" ]; then
		if [ -n "${CI:-}" ]; then
			fail "end-to-end tests cannot run: $why (CI must run them)"
		fi
		echo "SKIP: *** end-to-end test not run: $why: BPF recording is unavailable here ***" >&2
		exit 77
	fi
}

# folded FILE: the folded stacks of a profile.
folded() {
	"$SCORCH" folded -i "$1" || fail "scorch folded -i $1 failed"
}

# share PROFILE REGEX: percentage (integer) of samples whose folded stack matches REGEX.
share() {
	folded "$1" | awk -v re="$2" '{ n = $NF; t += n; if ($0 ~ re) m += n } END { if (!t) print 0; else printf "%d\n", 100 * m / t }'
}

# within PROFILE SELECT MATCH: of the samples whose folded stack matches SELECT, the percentage
# (integer) that also match MATCH; 0 when none matches SELECT. Tests assert shares within a selection
# (the samples in a workload's own functions) rather than of all samples, whose rest (ld.so's start-up,
# the kernel's exec and exit, other threads) depends on the machine's speed, load and scheduler.
within() {
	folded "$1" | awk -v sel="$2" -v re="$3" '$0 ~ sel { n = $NF; t += n; if ($0 ~ re) m += n } END { if (!t) print 0; else printf "%d\n", 100 * m / t }'
}

# matching PROFILE REGEX: the number of samples whose folded stack matches REGEX.
matching() {
	folded "$1" | awk -v re="$2" '$0 ~ re { t += $NF } END { print t + 0 }'
}

# samples PROFILE: total sample count.
samples() {
	folded "$1" | awk '{ t += $NF } END { print t + 0 }'
}

# meta PROFILE KEY: a meta value from scorch info.
meta() {
	"$SCORCH" info -i "$1" | awk -v k="$2" '$0 == "[meta]" { m = 1; next } /^\[/ { m = 0 } m && $1 == k { $1 = ""; sub(/^ +/, ""); print; exit }'
}

counter() {
	"$SCORCH" info -i "$1" | awk -v k="$2" '$0 == "[counters]" { m = 1; next } /^\[/ { m = 0 } m && $1 == k { print $2; exit }'
}

# between VALUE LO HI WHAT
between() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4 is $1, expected $2..$3"
}

require_bpf
