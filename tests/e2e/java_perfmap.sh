# Java frames named from the JVM's own perf map (JDK 17+): written at exit with
# -XX:+DumpPerfMapAtExit (read again when the JVM exits), or asked of a running JVM at the end of the
# recording with record --java-perfmap (jcmd PID Compiler.perfmap, run as the JVM's user).
. "$(dirname "$0")/lib.bash"

for tool in java javac jcmd; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: *** java_perfmap: '$tool' is not installed: Java perf maps are not tested ***" >&2
		exit 77
	fi
done

cat >"$TMP/Hot.java" <<'J'
public class Hot {
	static long sink;
	static long spin(long x) {
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005L + 1442695040888963407L ^ (x >>> 29);
		return x;
	}
	public static void main(String[] args) {
		long end = System.currentTimeMillis() + 1000L * Integer.parseInt(args[0]);
		long x = 1;
		while (System.currentTimeMillis() < end)
			x = spin(x);
		sink = x;
	}
}
J
javac -d "$TMP" "$TMP/Hot.java" || fail "javac failed"
chmod -R a+rX "$TMP"
maps=()
trap 'cleanup_pids; rm -f "${maps[@]}"; rm -rf "$TMP"' EXIT
JOPTS="-Xshare:auto -XX:TieredStopAtLevel=1 -Xss1m"

# 1. -XX:+DumpPerfMapAtExit: the map appears when the JVM exits; the recorder reads it then.
"$SCORCH" record -q -F 199 -o "$TMP/exit.prof" -- java $JOPTS -XX:+UnlockDiagnosticVMOptions \
	-XX:+DumpPerfMapAtExit -cp "$TMP" Hot 3 || fail "record of java failed"
pid=$("$SCORCH" info -i "$TMP/exit.prof" | awk '$1 == "targets" { print $2; exit }')
maps+=("/tmp/perf-$pid.map")
s=$(share "$TMP/exit.prof" 'Hot\.spin')
note "DumpPerfMapAtExit: Hot.spin in $s% of samples"
between "$s" 20 100 "share of Hot.spin named from the map dumped at exit"

# 2. A running JVM (of another user), no map: --java-perfmap asks it for one at the end.
command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp java $JOPTS -cp "$TMP" Hot 30 &
pid=$!
BG_PIDS+=("$pid")
maps+=("/tmp/perf-$pid.map")
sleep 2
"$SCORCH" record -q -F 199 -p "$pid" -d 2 -o "$TMP/plain.prof" || fail "record -p failed"
s=$(share "$TMP/plain.prof" 'Hot\.spin')
[ "$s" = 0 ] || fail "Hot.spin named without a perf map ($s%)"
t0=$(date +%s)
"$SCORCH" record -F 199 -p "$pid" -d 2 --java-perfmap -o "$TMP/ask.prof" 2>"$TMP/ask.err" ||
	fail "record --java-perfmap failed: $(cat "$TMP/ask.err")"
note "record -d 2 --java-perfmap took $(($(date +%s) - t0)) s"
grep -q warning "$TMP/ask.err" && fail "record --java-perfmap warned: $(cat "$TMP/ask.err")"
[ "$(stat -c %u "/tmp/perf-$pid.map")" = 65534 ] || fail "the perf map was not written by the JVM's user"
s=$(share "$TMP/ask.prof" 'Hot\.spin')
note "--java-perfmap: Hot.spin in $s% of samples"
between "$s" 20 100 "share of Hot.spin named by --java-perfmap"
kill "$pid"
wait "$pid" 2>/dev/null
exit 0
