# The file images kept for DWARF unwinding stay within a budget: with a budget too small for them
# all, two programs sampled in turn keep evicting each other's images, which are read again when
# needed, and every stack still unwinds to main.
. "$(dirname "$0")/lib.bash"

SCORCH_TEST_IMAGES_BUDGET=1 "$SCORCH" record -q -g dwarf -F 499 -o "$TMP/b.prof" -- \
	sh -c "'$WL/demo' 2 & '$WL/threads' 0 2 >/dev/null; wait" || fail "record failed"
evicted=$(counter "$TMP/b.prof" unwind_images_evicted)
demo=$(share "$TMP/b.prof" "main;serve;handle_request;(compress|checksum|parse_json)( |$)")
thr=$(share "$TMP/b.prof" "(main;main_loop|worker_[abc]);burn( |$)")
root=$(meta "$TMP/b.prof" unwind_root_share)
note "images evicted $evicted times; demo chains $demo%, threads chains $thr%, roots reached $root"
[ "$evicted" -ge 2 ] || fail "the budget did not make images be evicted ($evicted)"
between "$demo" 8 60 "share of complete demo chains (1 thread against 4)"
between "$thr" 40 92 "share of complete threads chains"
between $((demo + thr)) 95 100 "share of complete chains in all"
exit 0
