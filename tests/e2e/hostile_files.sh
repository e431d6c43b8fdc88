# Targets that map hostile files: a malformed ELF, a 64 GiB sparse file, a file replaced by a FIFO at
# its path, and (chrooted) a library whose path becomes a symlink out of the target's root and whose
# build-id debuginfo is such a symlink. Recording ends in bounded time with a valid profile, the
# unnamed code gets [file+0xoffset] frames, and no name comes from a file outside the target's root;
# the same debuginfo inside the root does name the code (the check can fail).
. "$(dirname "$0")/lib.bash"

[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the hostile code bytes are x86-64" >&2; exit 77; }

cat >"$TMP/host.c" <<'C'
/* Maps each file argument executable and runs the code at offset 4096 of each, round robin, for
 * SECS seconds; with DLOPEN, also the library's evil_entry. Then swaps paths named by the environment. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
	double secs = atof(argv[1]);
	void (*fn[16])(void);
	int n = 0, i;
	struct timespec a, b;
	const char *s;
	for (i = 2; i < argc && n < 15; i++) {
		int fd = open(argv[i], O_RDONLY);
		void *p;
		if (fd < 0) { perror(argv[i]); return 1; }
		p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) { perror("mmap"); return 1; }
		close(fd);
		fn[n++] = (void (*)(void))((char *)p + 4096);
	}
	if ((s = getenv("DLOPEN"))) {
		void *h = dlopen(s, RTLD_NOW);
		if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
		fn[n++] = (void (*)(void))dlsym(h, "evil_entry");
	}
	if ((s = getenv("TO_FIFO"))) { unlink(s); if (mkfifo(s, 0644)) { perror("mkfifo"); return 1; } }
	if ((s = getenv("TO_LINK"))) { unlink(s); if (symlink(getenv("LINK_TARGET"), s)) { perror("symlink"); return 1; } }
	clock_gettime(CLOCK_MONOTONIC, &a);
	do { for (i = 0; i < n; i++) fn[i](); clock_gettime(CLOCK_MONOTONIC, &b); }
	while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
	return 0;
}
C
cc -O1 -o "$TMP/host" "$TMP/host.c" -ldl || fail "cannot build the host"

# x86-64: mov ecx, 0x2000000; 1: dec ecx; jnz 1b; ret
spin() { printf '\xb9\x00\x00\x00\x02\xff\xc9\x75\xfc\xc3'; }
{ printf '\x7fELF\x02\x01\x01'; head -c 4089 /dev/urandom; spin; head -c 4086 /dev/zero; } >"$TMP/malformed.so"
{ printf '\x7fELF\x02\x01\x01'; head -c 4089 /dev/zero; spin; } >"$TMP/sparse.bin"
truncate -s 64G "$TMP/sparse.bin" || fail "cannot make a sparse file"
{ head -c 4096 /dev/zero; spin; head -c 4086 /dev/zero; } >"$TMP/fifo.bin"

# record PROFILE ARGS...: record within a bounded time.
record() {
	local out=$1 rc
	shift
	timeout 60 "$SCORCH" record -q -o "$out" "$@"
	rc=$?
	[ $rc = 124 ] && fail "record hung: $*"
	[ $rc = 0 ] || fail "record failed ($rc): $*"
	"$SCORCH" info -i "$out" >/dev/null || fail "'$out' is not a valid profile"
}

record "$TMP/h.prof" -- env TO_FIFO="$TMP/fifo.bin" "$TMP/host" 2 "$TMP/malformed.so" "$TMP/sparse.bin" "$TMP/fifo.bin"
for f in malformed.so sparse.bin fifo.bin; do
	s=$(share "$TMP/h.prof" "\\[$f\\+0x100[0-9a]\\]( |$)")
	note "[$f+0x...] in $s% of samples"
	between "$s" 10 60 "share of $f"
done
[ "$(counter "$TMP/h.prof" symbolizer_restarts)" = 0 ] || fail "the symbolizer child was restarted"

# A chroot: the library's build-id debuginfo and later its own path are symlinks out of the root.
R=$TMP/root OUTSIDE=$TMP/outside
mkdir -p "$R/lib" "$R/lib64" "$OUTSIDE"
cat >"$TMP/evil.c" <<'C'
#include <stdint.h>
volatile uint64_t evil_sink;
static __attribute__((noinline)) void secret_spin(void) { uint64_t x = evil_sink, i; for (i = 0; i < 3000000; i++) x = x * 33 + i; evil_sink = x; }
void evil_entry(void) { secret_spin(); }
C
cc -O0 -g -fno-omit-frame-pointer -shared -fPIC -Wl,--build-id -o "$OUTSIDE/libevil-full.so" "$TMP/evil.c" &&
	objcopy --only-keep-debug "$OUTSIDE/libevil-full.so" "$OUTSIDE/evil.debug" &&
	strip --strip-all -o "$R/lib/libevil.so" "$OUTSIDE/libevil-full.so" || fail "cannot build the library"
cp "$TMP/host" "$R/host"
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/" || fail "no /lib64/ld-linux-x86-64.so.2"
for l in $(ldd "$TMP/host" | awk '/=>/ { print $3 }'); do
	mkdir -p "$R$(dirname "$l")" && cp -L "$l" "$R$l" || fail "cannot copy $l"
done
bid=$(readelf -n "$R/lib/libevil.so" | awk '/Build ID/ { print $3 }')
[ -n "$bid" ] || fail "the library has no build id"
dbg=$R/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug
mkdir -p "$(dirname "$dbg")"

chrooted() { # PROFILE ENV...: record the chrooted host for 1.5 s
	local out=$1
	shift
	record "$out" -- env "$@" DLOPEN=/lib/libevil.so chroot "$R" /host 1.5
}

ln -s "$OUTSIDE/evil.debug" "$dbg"
chrooted "$TMP/out.prof" TO_LINK=/lib/libevil.so LINK_TARGET="$OUTSIDE/libevil-full.so"
s=$(share "$TMP/out.prof" "evil_entry;\\[libevil\\.so\\+0x[0-9a-f]+\\]( |$)")
note "evil_entry;[libevil.so+0x...] in $s% of samples (debuginfo is a symlink out of the root)"
between "$s" 50 100 "share of unnamed library code"
folded "$TMP/out.prof" | grep -q secret_spin && fail "a name came from debuginfo outside the target's root"

# The control: the same debuginfo inside the root names the function, also through the sandbox.
rm -f "$dbg" && cp "$OUTSIDE/evil.debug" "$dbg"
[ -L "$R/lib/libevil.so" ] && rm -f "$R/lib/libevil.so" && strip --strip-all -o "$R/lib/libevil.so" "$OUTSIDE/libevil-full.so"
chrooted "$TMP/in.prof"
s=$(share "$TMP/in.prof" "evil_entry;secret_spin( |$)")
note "evil_entry;secret_spin in $s% of samples (debuginfo inside the root)"
between "$s" 50 100 "share of secret_spin named from debuginfo in the root"
exit 0
