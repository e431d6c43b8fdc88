# Compare two addr2line-style outputs made with -a (an address line starts each block):
#   awk -f symcompare.awk REFERENCE OURS
# The reference is eu-addr2line or binutils addr2line. Differences that are only presentation are
# ignored: column numbers (":L:C"), eu-addr2line's " inlined at FILE:L:C in F" annotation, and
# the compile directory that eu-addr2line prepends to relative file names, binutils' "(discriminator N)",
# zero padding of the address, a file named with line 0 (unknown line), and spaces in function names (demanglers space templates differently:
# "operator< <char>" or "operator<<char>"). Prints each disagreement
# and, last, "agree N of M lines".
function norm_fn(s) {
	sub(/ inlined at .* in .*$/, "", s)
	gsub(/ /, "", s)
	return s
}
function norm_src(s) {
	if (match(s, /:[0-9]+:[0-9]+$/))
		s = substr(s, 1, RSTART - 1) substr(s, RSTART, RLENGTH) # keep, cut below
	if (s ~ /:[0-9]+:[0-9]+$/)
		sub(/:[0-9]+$/, "", s)
	sub(/ \(discriminator [0-9]+\)$/, "", s)
	sub(/:\?$/, ":0", s)
	# Line 0 is no line: llvm names the file from the symbol table then, the others print ??.
	if (s ~ /:0$/)
		s = "??:0"
	return s
}
function same(kind, ref, ours,    r, o) {
	if (kind == "fn")
		return norm_fn(ref) == norm_fn(ours)
	r = norm_src(ref)
	o = norm_src(ours)
	if (r == o)
		return 1
	# eu-addr2line joins the compile directory with a relative name: "DIR/./x.c" for "./x.c".
	if (o !~ /^\// && length(r) > length(o) && substr(r, length(r) - length(o)) == "/" o)
		return 1
	return 0
}
FNR == 1 { file++ }
/^0x[0-9a-f]+$/ { addr = $0; sub(/^0x0*/, "0x", addr); n[file, addr] = 0; if (file == 1) order[++naddr] = addr; next }
{ line[file, addr, n[file, addr]++] = $0 }
END {
	for (i = 1; i <= naddr; i++) {
		a = order[i]
		m = n[1, a]
		for (k = 0; k < m; k++) {
			total++
			kind = k % 2 == 0 ? "fn" : "src"
			if ((2, a, k) in line && same(kind, line[1, a, k], line[2, a, k])) {
				agree++
			} else {
				printf "DIFF %s line %d: reference '%s' scorch '%s'\n", a, k, line[1, a, k], \
					((2, a, k) in line) ? line[2, a, k] : "(none)"
			}
		}
		if (n[2, a] > m) {
			total += n[2, a] - m
			printf "DIFF %s: scorch has %d extra lines\n", a, n[2, a] - m
		}
	}
	printf "agree %d of %d lines\n", agree, total
}
