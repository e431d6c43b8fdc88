# The file images kept for DWARF unwinding stay within a budget: with a budget too small for them
# all, two programs sampled in turn keep evicting each other's images, which are read again when
# needed, and every stack still unwinds to main.
. "$(dirname "$0")/lib.bash"

SCORCH_TEST_IMAGES_BUDGET=1 "$SCORCH" record -q -g dwarf -F 499 -o "$TMP/b.prof" -- \
	sh -c "'$WL/demo' 2 & '$WL/threads' 0 2 >/dev/null; wait" || fail "record failed"
evicted=$(counter "$TMP/b.prof" unwind_images_evicted)
# How the CPUs are shared between the demo's one thread and the four of 'threads' is the scheduler's
# business: each program's work is asserted to unwind completely, each with enough samples.
dn=$(matching "$TMP/b.prof" "(compress|checksum|parse_json)( |$)")
tn=$(matching "$TMP/b.prof" ";burn( |$)")
demo=$(within "$TMP/b.prof" "(compress|checksum|parse_json)( |$)" "main;serve;handle_request;(compress|checksum|parse_json)( |$)")
thr=$(within "$TMP/b.prof" ";burn( |$)" "(main;main_loop|start_thread;worker_[abc]);burn( |$)")
root=$(meta "$TMP/b.prof" unwind_root_share)
note "images evicted $evicted times; demo: $dn samples, $demo% complete; threads: $tn samples, $thr% complete; roots reached $root"
[ "$evicted" -ge 2 ] || fail "the budget did not make images be evicted ($evicted)"
[ "$dn" -ge 50 ] || fail "only $dn samples in the demo's work"
[ "$tn" -ge 100 ] || fail "only $tn samples in the threads' work"
between "$demo" 95 100 "share of the demo's work with its complete chain"
between "$thr" 95 100 "share of the threads' work with its complete chain"
exit 0
