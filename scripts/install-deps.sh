#!/bin/sh
# Install the Debian packages scorch needs for a given purpose, and only those that are missing.
#   scripts/install-deps.sh build   - to build scorch
#   scripts/install-deps.sh test    - to build and run the whole test suite
#   scripts/install-deps.sh valgrind - to run the unit tests under valgrind (make test-valgrind)
#   scripts/install-deps.sh bench   - for scripts/bench/realworld.sh (PostgreSQL, perf)
set -eu

build_pkgs="make gcc clang llvm libbpf-dev bpftool libelf-dev libdw-dev libunwind-dev libiberty-dev libzstd-dev zlib1g-dev pkg-config"
test_pkgs="$build_pkgs clang-format libcmocka-dev libclang-rt-14-dev elfutils binutils libc6-dbg g++ linux-perf tmux jq xz-utils python3-minimal"
# Debian's CPython, its interpreter linked into the executable (tests/e2e/python_*.sh).
test_pkgs="$test_pkgs python3.11"
# Other linkers: lld and mold lay segments out unlike GNU ld (tests/e2e/linkers.sh).
# A JVM for the Java tests (tests/e2e/java_threads.sh).
test_pkgs="$test_pkgs lld mold default-jdk-headless"
# The report formats' real consumers (tests/reports): pprof built from source, chromium, node + npm for
# speedscope. A node that came from elsewhere (with its own npm) is kept.
test_pkgs="$test_pkgs chromium golang-go golang-github-google-pprof-dev"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || test_pkgs="$test_pkgs nodejs npm"
# The JVM's perf maps (tests/e2e/java_perfmap.sh): javac and jcmd of JDK 17 or later; a JDK that came
# from elsewhere is kept.
command -v javac >/dev/null 2>&1 && command -v jcmd >/dev/null 2>&1 || test_pkgs="$test_pkgs default-jdk-headless"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
valgrind) want="$test_pkgs valgrind" ;;
bench) want="$build_pkgs linux-perf postgresql postgresql-contrib bc time" ;;
*) echo "usage: $0 build|test|valgrind|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing packages:$missing (and apt-get is not available: install them by hand)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run 'sudo $0 ${1:-build}' or install them as root" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
