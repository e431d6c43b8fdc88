# Symbols of a non-PIE executable and of a shared library it calls, with the chain across them.
. "$(dirname "$0")/lib.bash"

cat >"$TMP/chain.c" <<'C'
#include <stdint.h>
volatile uint64_t lib_sink;
__attribute__((noinline)) void lib_inner(void) { uint64_t x = lib_sink, i; for (i = 0; i < 200000; i++) x = x * 31 + i; lib_sink = x; }
__attribute__((noinline)) void lib_outer(void) { lib_inner(); }
C
cat >"$TMP/app.c" <<'C'
#include <stdlib.h>
#include <time.h>
void lib_outer(void);
__attribute__((noinline)) void app_caller(void) { lib_outer(); }
int main(int argc, char **argv) {
	time_t end = time(NULL) + (argc > 1 ? atoi(argv[1]) : 2);
	while (time(NULL) < end) app_caller();
	return 0;
}
C
flags="-O0 -g -fno-omit-frame-pointer -fno-inline"
cc $flags -shared -fPIC -o "$TMP/libchain.so" "$TMP/chain.c" || fail "cannot build the library"
cc $flags -no-pie -o "$TMP/app_nopie" "$TMP/app.c" -L"$TMP" -lchain -Wl,-rpath,"$TMP" || fail "cannot build the app"
cc $flags -pie -fPIE -o "$TMP/app_pie" "$TMP/app.c" -L"$TMP" -lchain -Wl,-rpath,"$TMP" || fail "cannot build the app"

for app in app_nopie app_pie; do
	"$SCORCH" record -q -F 299 -o "$TMP/$app.prof" -- "$TMP/$app" 2 || fail "record of $app failed"
	n=$(matching "$TMP/$app.prof" "lib_inner( |$)")
	s=$(within "$TMP/$app.prof" "lib_inner( |$)" "main;app_caller;lib_outer;lib_inner( |$)")
	note "$app: $n samples in lib_inner, $s% of them with main;app_caller;lib_outer;lib_inner"
	[ "$n" -ge 60 ] || fail "$app: only $n samples in lib_inner"
	between "$s" 95 100 "$app: share of lib_inner's samples with the whole chain"
	"$SCORCH" report -i "$TMP/$app.prof" -n 3 --no-header | grep -Eq 'lib_inner +libchain\.so$' ||
		fail "$app: lib_inner not attributed to libchain.so"
	"$SCORCH" info -i "$TMP/$app.prof" | grep -Eq "^$TMP/libchain.so +[0-9a-f]{40}$" ||
		fail "$app: the library mapping has no build id"
done
exit 0
