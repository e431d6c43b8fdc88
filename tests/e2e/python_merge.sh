# Python frames (issue 17): where the Python frames go in the native stack. Each run of Python frames
# replaces the _PyEval_EvalFrameDefault frame that ran it (the walk's entry marks say where a run
# ends), so: a recursion is one run of all its frames; a generator's frames sit under the native
# frames that resumed it (sum -> gen_send_ex); a Python -> C -> Python callback (sorted's key) has the
# native sort between the caller and the key function. Also: a thread started after the recording
# attached (record -p) gets its Python frames; --no-python leaves them out. Debian's python3.11
# (required) and each pyenv 3.8-3.13 found (the others skipped by name).
. "$(dirname "$0")/lib.bash"

TESTS=${TESTS:-$(dirname "$0")/..}
W=$TESTS/workloads/py_merge.py
. "$(dirname "$0")/python.bash"

# 12 recursive frames ("{12}" is not in mawk's regular expressions).
r12=$(printf 'recurse;%.0s' 1 2 3 4 5 6 7 8 9 10 11 12)

# native_between CALLER CALLEE FILE: samples of the annotated folded FILE in which Python frame CALLEE
# comes right after Python frame CALLER with one native frame or more, and no Python frame, between.
native_between() {
	awk -v a="$1_[py]" -v b="$2_[py]" '{
		n = split($1, f, ";"); last = 0
		for (i = 1; i <= n; i++) {
			if (f[i] == b && last && i > last + 1) { t += $NF; break }
			if (f[i] ~ /_\[py\]$/) last = (f[i] == a) ? i : 0
		}
	} END { print t + 0 }' "$3"
}

# pct PART WHOLE
pct() { [ "$2" -gt 0 ] && echo $((100 * $1 / $2)) || echo 0; }

for py in $PYTHONS; do
	p=$TMP/merge-$(python_tag "$py").prof
	"$SCORCH" record -q -F 499 -o "$p" -- "$py" "$W" 3 >/dev/null || fail "record of $py failed"
	"$SCORCH" folded --python-only -i "$p" >"$p.py" || fail "folded --python-only failed"
	"$SCORCH" folded --annotate -i "$p" >"$p.ann" || fail "folded --annotate failed"

	# Recursion: recurse(12) is 13 frames deep while it spins; never deeper, never split.
	rec=$(awk '/;recurse / { t += $NF } END { print t + 0 }' "$p.py")
	full=$(awk -v re="^<module>;rounds;${r12}recurse " '$0 ~ re { t += $NF } END { print t + 0 }' "$p.py")
	deep=$(awk -v re="${r12}recurse;recurse" '$0 ~ re { t += $NF } END { print t + 0 }' "$p.py")
	note "$py: recursion $full of $rec samples 13 deep, $deep deeper"
	[ "$rec" -ge 100 ] || fail "$py: only $rec samples in recurse"
	[ "$(pct "$full" "$rec")" -ge 95 ] || fail "$py: $full of $rec recursion samples have the 13 frames"
	[ "$deep" -eq 0 ] || fail "$py: $deep samples have more recurse frames than calls"

	# The generator: consume's frame, then native frames (sum, the generator's resumption), then
	# the generator's frame; never the generator's frame straight under consume.
	gen=$(awk '/numbers_\[py\]/ { t += $NF } END { print t + 0 }' "$p.ann")
	gen_ok=$(native_between consume numbers "$p.ann")
	note "$py: generator $gen_ok of $gen samples under native frames"
	[ "$gen" -ge 50 ] || fail "$py: only $gen samples in the generator"
	[ "$(pct "$gen_ok" "$gen")" -ge 95 ] || fail "$py: $gen_ok of $gen generator samples are under consume and native frames"

	# The callback: sort_with_callback, native frames (sorted), sort_key.
	cb=$(awk '/sort_key_\[py\]/ { t += $NF } END { print t + 0 }' "$p.ann")
	cb_ok=$(native_between sort_with_callback sort_key "$p.ann")
	note "$py: callback $cb_ok of $cb samples under sorted's native frames"
	[ "$cb" -ge 50 ] || fail "$py: only $cb samples in the key function"
	[ "$(pct "$cb_ok" "$cb")" -ge 95 ] || fail "$py: $cb_ok of $cb callback samples have native frames between caller and callback"

	# No evaluator frame is left between two Python frames.
	ev=$(awk '/_\[py\];_PyEval_EvalFrameDefault;.*_\[py\]/ { t += $NF } END { print t + 0 }' "$p.ann")
	[ "$ev" -le 2 ] || fail "$py: $ev samples keep an evaluator frame between Python frames"
done

# A thread started after the recording attached to the process.
py=/usr/bin/python3.11
"$py" "$W" late 1.5 2.5 &
pid=$!
BG_PIDS+=("$pid")
sleep 0.5
p=$TMP/late.prof
"$SCORCH" record -q -F 499 -d 4 -p "$pid" -o "$p" >/dev/null || fail "record -p of $py failed"
wait "$pid"
"$SCORCH" folded --python-only -i "$p" >"$p.py" || fail "folded --python-only failed"
late=$(awk '/late_thread_body / { t += $NF } END { print t + 0 }' "$p.py")
late_ok=$(awk '/^Thread\._bootstrap;Thread\._bootstrap_inner;Thread\.run;late_thread_body / { t += $NF } END { print t + 0 }' "$p.py")
note "late thread: $late_ok of $late samples with its whole Python stack"
[ "$late" -ge 200 ] || fail "only $late samples of the thread started after attaching have its Python frames"
[ "$(pct "$late_ok" "$late")" -ge 95 ] || fail "$late_ok of $late late-thread samples have their whole Python stack"

# --no-python: no Python frames at all, the evaluator's native frames instead.
p=$TMP/nopy.prof
"$SCORCH" record -q -F 499 --no-python -o "$p" -- "$py" "$W" 1 >/dev/null || fail "record --no-python failed"
[ "$(folded "$p" | grep -c 'recurse')" = 0 ] || fail "--no-python still named Python frames"
[ "$(matching "$p" '_PyEval_EvalFrameDefault|python3\.11\+')" -gt 0 ] || fail "--no-python lost the native frames"
exit 0
