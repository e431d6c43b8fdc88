# Shared by tests/reports/*.sh: the scorch binary, a scratch directory, the fixture profile, and the real
# consumers of scorch's output formats. A consumer that cannot be had makes a test skip (exit 77) on a
# developer's machine, and fail in CI (CI=true), where 'make test' has installed it.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${OUT:-build}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
SCORCH=${SCORCH:-$OUT/scorch}
SYNTH=$OUT/tests/synth
GOLDEN=$ROOT/tests/golden
TMP=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*"; }
# A consumer is missing: skip here, fail in CI.
missing() {
	if [ "${CI:-}" = true ]; then
		fail "$* (CI installs it through 'make test': see scripts/install-deps.sh)"
	fi
	echo "SKIP: $*"
	exit 77
}

[ -x "$SCORCH" ] || fail "no scorch binary at $SCORCH: run make"
[ -x "$SYNTH" ] || fail "no synth at $SYNTH: run make unit"
"$SYNTH" -o "$TMP/fixture.prof" --fixture || fail "synth --fixture"

# pprof, built offline from Debian's golang-github-google-pprof-dev into $OUT/tools/.
need_pprof() {
	PPROF=$OUT/tools/pprof
	[ -x "$PPROF" ] && return 0
	command -v go >/dev/null || missing "no go compiler (Debian package golang-go)"
	[ -d /usr/share/gocode/src/github.com/google/pprof ] ||
		missing "no pprof sources (Debian package golang-github-google-pprof-dev)"
	mkdir -p "$OUT/tools" "$OUT/gocache"
	GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE=$OUT/gocache GOFLAGS= \
		go build -o "$PPROF" github.com/google/pprof >"$TMP/go.log" 2>&1 ||
		{ cat "$TMP/go.log" >&2; fail "cannot build pprof"; }
}

# speedscope's own release bundle, from the npm registry into $OUT/node/.
need_speedscope() {
	SPEEDSCOPE=$OUT/node/node_modules/speedscope/dist/release/index.html
	[ -f "$SPEEDSCOPE" ] && return 0
	command -v npm >/dev/null || missing "no npm"
	mkdir -p "$OUT/node"
	(cd "$OUT/node" && timeout 300 npm install --no-audit --no-fund --no-save --prefix "$OUT/node" speedscope@1 \
		>"$TMP/npm.log" 2>&1) || { cat "$TMP/npm.log" >&2; missing "cannot install speedscope from npm"; }
	[ -f "$SPEEDSCOPE" ] || fail "speedscope installed without dist/release/index.html"
}

# Chromium, headless. chrome_dom URL [extra flags...] prints the DOM after scripts ran.
need_chromium() {
	CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
	[ -n "$CHROMIUM" ] || missing "no chromium (Debian package chromium)"
}
chrome() {
	local profile
	profile=$(mktemp -d "$TMP/chrome.XXXXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-extensions \
		--user-data-dir="$profile" "$@" 2>"$profile.log"
}
chrome_dom() {
	local url=$1
	shift
	chrome --virtual-time-budget=5000 "$@" --dump-dom "$url"
}
