#!/bin/bash
# Run scorch's test suites and print one summary line: "N passed, N failed, N skipped".
#
#   tests/run.sh               every suite: unit cli fuzz e2e
#   tests/run.sh unit e2e      only these
#
# Suites:
#   unit  cmocka binaries build/tests/test_* (each test case counts; VALGRIND=1 runs them under memcheck)
#   cli   tests/cli/cases: command lines with their expected exit code and message
#   fuzz  a short smoke run of every libFuzzer harness over its seeds (FUZZ_SMOKE_SECONDS, default 10)
#   e2e   tests/e2e/*.sh: real recordings with the BPF sampler (need root); exit 77 means skipped
#   reports  tests/reports/*.sh: golden files of every output format, interop with pprof, speedscope
#         and chromium (installed by 'make test'); exit 77 means skipped
#
# Environment: OUT (build directory, default build).
set -u
cd "$(dirname "$0")/.."
export OUT=${OUT:-build}
export SCORCH=$PWD/$OUT/scorch
export WL=$PWD/$OUT/workloads
export TESTS=$PWD/tests

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit cli fuzz reports e2e)

passed=0 failed=0 skipped=0
failures=()

pass() { passed=$((passed + 1)); printf '  PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf '  FAIL  %s\n' "$1"; }
skip() { skipped=$((skipped + 1)); printf '  SKIP  %s (%s)\n' "$1" "$2"; }

run_unit() {
	local bin out line
	for bin in "$OUT"/tests/test_*; do
		[ -x "$bin" ] || continue
		if [ -n "${VALGRIND:-}" ]; then
			out=$(CMOCKA_MESSAGE_OUTPUT=tap valgrind -q --error-exitcode=99 --leak-check=full \
				--errors-for-leak-kinds=definite,indirect "$bin" 2>&1)
		else
			out=$(CMOCKA_MESSAGE_OUTPUT=tap "$bin" 2>&1)
		fi
		local rc=$? seen=0
		while IFS= read -r line; do
			case "$line" in
			"ok "*) pass "$(basename "$bin"): ${line#ok * - }"; seen=1 ;;
			"not ok "*" # SKIP "*)
				skip "$(basename "$bin"): ${line#not ok * # SKIP }" "${VALGRIND:+under valgrind: }skipped by the test"
				seen=1 ;;
			"not ok "*) fail "$(basename "$bin"): ${line#not ok * - }"; seen=1 ;;
			esac
		done <<<"$out"
		if [ $seen = 0 ] || { [ $rc != 0 ] && ! grep -q '^not ok' <<<"$out"; }; then
			fail "$(basename "$bin") (exit $rc)"
			printf '%s\n' "$out" | tail -20 | sed 's/^/        /'
		elif [ $rc != 0 ]; then
			printf '%s\n' "$out" | grep -v '^ok' | tail -30 | sed 's/^/        /'
		fi
	done
}

run_cli() {
	local log
	log=$(mktemp)
	{ tests/cli/run.sh; tests/cli/completion.sh; tests/cli/layers.sh; tests/cli/format.sh; } >"$log" 2>&1
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) pass "cli: ${line#PASS }" ;;
		"FAIL "*) fail "cli: ${line#FAIL }" ;;
		"      "*) printf '%s\n' "$line" ;;
		esac
	done <"$log"
	rm -f "$log"
}

run_fuzz() {
	local secs=${FUZZ_SMOKE_SECONDS:-10} bin name seeds corpus
	for bin in "$OUT"/fuzz/fuzz_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		seeds=tests/fuzz/seeds/${name#fuzz_}
		corpus=$(mktemp -d)
		# UBSan findings fail the run (they only print by default), as the sanitizers' other findings do.
		if UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
			"$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
			"$corpus" "$seeds" >"$corpus.log" 2>&1; then
			pass "fuzz smoke: $name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$corpus.log" | grep -o '[0-9]*$') runs in ${secs}s)"
		else
			fail "fuzz smoke: $name"
			tail -30 "$corpus.log" | sed 's/^/        /'
		fi
		rm -rf "$corpus" "$corpus.log"
	done
}

run_e2e() {
	local t rc out
	for t in tests/${1:-e2e}/*.sh; do
		[ -f "$t" ] || continue
		out=$(bash "$t" 2>&1)
		rc=$?
		case $rc in
		0) pass "${1:-e2e}: $(basename "$t" .sh)" ;;
		77) skip "${1:-e2e}: $(basename "$t" .sh)" "$(tail -1 <<<"$out")"
		    printf '%s\n' "$out" | grep -i 'skip' | sed 's/^/        /' ;;
		*) fail "${1:-e2e}: $(basename "$t" .sh)"; printf '%s\n' "$out" | tail -40 | sed 's/^/        /' ;;
		esac
	done
}

for s in "${suites[@]}"; do
	echo "== $s"
	case $s in
	unit) run_unit ;;
	cli) run_cli ;;
	fuzz) run_fuzz ;;
	e2e) run_e2e ;;
	reports) run_e2e reports ;;
	*) echo "unknown suite '$s'" >&2; exit 2 ;;
	esac
done

if [ $failed -gt 0 ]; then
	echo
	echo "Failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
