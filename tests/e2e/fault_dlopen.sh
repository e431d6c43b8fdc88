# A library dlopen()ed after sampling started is named, and so is the code after it is dlclose()d.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/plugin.c" <<'C'
#include <stdint.h>
volatile uint64_t plugin_sink;
__attribute__((noinline)) void plugin_work(void) { uint64_t x = plugin_sink, i; for (i = 0; i < 300000; i++) x = x * 33 + i; plugin_sink = x; }
__attribute__((noinline)) void plugin_entry(double secs);
#include <time.h>
void plugin_entry(double secs) {
	struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
	do { plugin_work(); clock_gettime(CLOCK_MONOTONIC, &b); } while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
}
C
cat >"$TMP/host.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
	void (*entry)(double);
	void *h;
	(void)argc;
	usleep(800000); /* sampling is attached by now */
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
	entry = (void (*)(double))dlsym(h, "plugin_entry");
	entry(1.5);
	dlclose(h);
	usleep(300000);
	return 0;
}
C
cc -O0 -g -fno-omit-frame-pointer -shared -fPIC -o "$TMP/libplugin.so" "$TMP/plugin.c" || fail "cannot build the plugin"
cc -O0 -g -fno-omit-frame-pointer -o "$TMP/host" "$TMP/host.c" -ldl || fail "cannot build the host"
"$SCORCH" record -q -F 299 -o "$TMP/d.prof" -- "$TMP/host" "$TMP/libplugin.so" || fail "record failed"
n=$(matching "$TMP/d.prof" "plugin_work( |$)")
s=$(within "$TMP/d.prof" "plugin_work( |$)" "main;plugin_entry;plugin_work( |$)")
note "$n samples in plugin_work, $s% of them with main;plugin_entry;plugin_work"
# 1.5 s at 299 Hz is ~450 samples, fewer on a loaded machine.
[ "$n" -ge 150 ] || fail "only $n samples in the dlopen()ed library"
between "$s" 95 100 "share of the dlopen()ed library's samples with its chain"
"$SCORCH" report -i "$TMP/d.prof" -n 3 --no-header | grep -Eq 'plugin_work +libplugin\.so$' ||
	fail "plugin_work not attributed to libplugin.so"
exit 0
