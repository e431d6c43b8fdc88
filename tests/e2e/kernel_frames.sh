# Kernel stacks: a read(2)-heavy workload shows named kernel frames above its user chain.
. "$(dirname "$0")/lib.bash"

"$SCORCH" record -q -F 499 -o "$TMP/k.prof" -- "$WL/syscalls" 2 || fail "record failed"
# libc's __read keeps no frame pointer, so a frame-pointer walk loses its caller read_zero_chunk
# (DWARF unwinding recovers it); the chain above it must be intact. With libc's debuginfo installed
# the wrapper is named from DWARF, as addr2line and eu-addr2line name it: __GI___libc_read.
rd="(__read|__libc_read|__GI___libc_read)"
# Of the samples in the read wrapper (how much of the run they are depends on the machine's read(2)).
n=$(matching "$TMP/k.prof" "(^|;)$rd(;| )")
[ "$n" -ge 100 ] || fail "only $n samples in read(2)"
u=$(within "$TMP/k.prof" "(^|;)$rd(;| )" "main;copy_loop;(read_zero_chunk;)?$rd(;| )")
note "$n samples in read(2); user chain main;copy_loop;[read_zero_chunk;]__read: $u%"
between "$u" 95 100 "share of read(2)'s samples with the user chain"
k=$(within "$TMP/k.prof" "(^|;)$rd(;| )" "$rd;.*(__x64_sys_read|ksys_read|vfs_read);read_zero")
note "with named kernel read frames: $k%"
between "$k" 50 100 "share of read(2)'s samples in the kernel's read_zero"
unnamed=$(share "$TMP/k.prof" "\\[kernel\\.kallsyms\\+")
note "with unnamed kernel frames: $unnamed%"
between "$unnamed" 0 2 "share with unnamed kernel frames"
exit 0
