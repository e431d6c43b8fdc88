# A JVM's threads, unwound with -g auto (the default): a thread's stack has one root, glibc's
# __clone3, whatever the sample. Java stacks cross JIT code without CFI; stepping past it, libunwind
# guesses from RBP and reads garbage addresses (0x18). That miss was reported to the recorder before
# the one that mattered (libc, not opened yet), so the sample was never retried with libc and ended
# at start_thread: 313 samples were 'start_thread;...' and 175 '__clone3;start_thread;...' for the same
# threads. Two things may still end a thread's stack at start_thread, both counted: -g auto keeping the
# kernel's frame-pointer walk where the DWARF unwind failed in JIT code (start_thread keeps no frame
# pointer; CI saw 43 of 1,111 samples), a stack copy that ends between start_thread and __clone3, and
# a sample sent without its copy while the ring buffer was nearly full (the frame-pointer walk). Skipped, loudly, where no JDK is installed (make test installs default-jdk-headless).
. "$(dirname "$0")/lib.bash"

if ! command -v java >/dev/null || ! command -v javac >/dev/null; then
	echo "SKIP: *** java/javac not installed: the JVM thread-root test did not run ***" >&2
	exit 77
fi

cat >"$TMP/Hot.java" <<'JAVA'
public class Hot {
    static volatile long sink;
    static long work(long n) { long x = n; for (int i = 0; i < 100000; i++) x = x * 31 + i; return x; }
    public static void main(String[] a) throws Exception {
        long end = System.currentTimeMillis() + Integer.parseInt(a[0]) * 1000L;
        Thread[] t = new Thread[2];
        for (int k = 0; k < t.length; k++) {
            t[k] = new Thread(() -> { long n = 0; while (System.currentTimeMillis() < end) sink += work(n++); });
            t[k].start();
        }
        for (Thread x : t) x.join();
    }
}
JAVA
javac -d "$TMP" "$TMP/Hot.java" || fail "javac failed"

p=$TMP/java.prof
"$SCORCH" record -q -F 199 -o "$p" -- java -Xshare:auto -cp "$TMP" Hot 3 || fail "record of java failed"
folded "$p" >"$TMP/java.folded"
# Of the samples that reach start_thread, how many have __clone3 above it as the root.
read -r threads rooted <<<"$(awk '{ n = $NF } /(^|;)start_thread;/ { t += n; if ($0 ~ /^__clone3;start_thread;/) r += n } END { print t + 0, r + 0 }' "$TMP/java.folded")"
note "$threads samples reach start_thread, $rooted of them have __clone3 as root; roots:"
awk '{ split($1, f, ";"); r[f[1]] += $NF } END { for (k in r) print r[k], k }' "$TMP/java.folded" | sort -nr | head -5 |
	sed 's/^/    /' >&2
kwalk=$(counter "$p" unwind_kernel_walk)
trunc=$(counter "$p" unwind_truncated)
shed=$(counter "$p" stack_copies_shed)
failed=$("$SCORCH" info -i "$p" | awk '$1 ~ /^unwind_failed:/ { printf "%s=%s ", $1, $2 }')
note "unwind_kernel_walk $kwalk, unwind_truncated $trunc, stack_copies_shed $shed, ${failed:-no unwind_failed counters}"
awk '/(^|;)start_thread;/ && !/^__clone3;start_thread;/' "$TMP/java.folded" | sort -t' ' -k2 -nr | head -3 |
	cut -c1-240 | sed 's/^/    not rooted: /' >&2
[ "$threads" -ge 100 ] || fail "only $threads samples reach start_thread"
# Under load a few copies (20 of 356 once, with none of the counters above) still end at
# start_thread, cause not found yet; the bug this test is for split a thread's samples 313/175.
[ $((10 * (threads - rooted - kwalk - trunc - shed))) -le "$threads" ] ||
	fail "$((threads - rooted)) of $threads samples of a thread do not end in __clone3, more than the $kwalk kernel walks, $trunc truncated unwinds and $shed samples without their copy and a tenth of the rest: one thread, two roots"
# The kernel walk is the exception, not the rule: the DWARF unwinder steps through the JIT frames.
[ $((4 * kwalk)) -le "$threads" ] || fail "$kwalk of $threads thread samples took the kernel's walk"
exit 0
