# The target execs a different binary while it is recorded with -p: the frames before the exec are
# named from the old binary and the frames after it from the new one (the cached maps are replaced).
# Samples inside execve itself keep only their kernel stack.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/execer.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static volatile uint64_t sink;
__attribute__((noinline)) void before_exec_work(double secs) {
	struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
	do { uint64_t x = sink, i; for (i = 0; i < 100000; i++) x = x * 33 + i; sink = x; clock_gettime(CLOCK_MONOTONIC, &b); }
	while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
}
int main(int argc, char **argv) {
	(void)argc;
	printf("ready\n"); fflush(stdout);
	usleep(500000);
	before_exec_work(1.5);
	execl(argv[1], argv[1], "2", (char *)NULL);
	return 1;
}
C
# Both binaries static and non-PIE: the new image is mapped at the very addresses of the old one and
# no library moves, so without the exec count stale maps would name the new code after the old
# binary's functions.
flags="-O0 -g -fno-omit-frame-pointer -fno-inline -no-pie -static"
cc $flags -o "$TMP/execer" "$TMP/execer.c" || fail "cannot build the workload"
cc $flags -o "$TMP/demo" "$TESTS/workloads/demo.c" || fail "cannot build the demo"
"$TMP/execer" "$TMP/demo" >"$TMP/out" &
pid=$!
BG_PIDS+=("$pid")
for _ in $(seq 50); do grep -q ready "$TMP/out" && break; sleep 0.1; done
"$SCORCH" record -q -F 299 -p "$pid" -o "$TMP/e.prof" || fail "record failed"
before=$(share "$TMP/e.prof" "main;before_exec_work( |$)")
after=$(share "$TMP/e.prof" "main;serve;handle_request;(compress|checksum|parse_json)( |$)")
note "before the exec: $before%, after it (demo's chain): $after%"
# How the recording splits between the two images depends on how soon the recorder attached: each
# has enough samples, and together they are (nearly) everything.
[ "$(matching "$TMP/e.prof" "main;before_exec_work( |$)")" -ge 30 ] || fail "too few samples before the exec"
[ "$(matching "$TMP/e.prof" "main;serve;handle_request;(compress|checksum|parse_json)( |$)")" -ge 100 ] ||
	fail "too few samples after the exec"
between $((before + after)) 90 100 "share of samples named from the right binary"
[ "$(counter "$TMP/e.prof" execs)" -ge 1 ] || fail "the exec was not counted"

# A sample taken inside execve has no user frames: its user registers belong to the image being
# replaced, and once the new address space is in place they would be read against it.
"$SCORCH" record -q -g dwarf -F 999 -o "$TMP/x.prof" -- sh -c 'i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done' ||
	fail "record of an exec loop failed"
"$SCORCH" folded --annotate -i "$TMP/x.prof" >"$TMP/x.folded" || fail "scorch folded failed"
in_exec=$(counter "$TMP/x.prof" samples_in_exec)
loading=$(awk '/load_elf_binary_\[k\]/ { t += $NF } END { print t + 0 }' "$TMP/x.folded")
mixed=$(awk '/load_elf_binary_\[k\]/ { n = split($1, f, ";"); for (i = 1; i <= n; i++) if (f[i] !~ /_\[k\]$/) { m += $NF; break } }
	END { print m + 0 }' "$TMP/x.folded")
note "300 execs: $in_exec samples inside execve ($loading loading the ELF file), $mixed of those with user frames"
[ "$in_exec" -ge 1 ] || fail "no sample counted inside execve"
[ "$loading" -le "$in_exec" ] || fail "$loading samples in load_elf_binary, only $in_exec counted inside execve"
[ "$mixed" = 0 ] || fail "$mixed samples inside execve carry user frames"
exit 0
