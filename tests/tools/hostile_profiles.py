#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Write small scorch profiles (man/scorch-format.5) crafted to cost a naive reader far more than their
size: the fuzz seeds of tests/fuzz/seeds/pfile/hostile-* and the fixtures of the CLI cases on the
reader limits. Needs the zstd program (each chunk is one zstd frame with content size and checksum).

    tests/tools/hostile_profiles.py DIR [NAME...]

writes DIR/NAME for each NAME (default: all of them):

  deep-threads     one stack 200,000 frames deep counted once in each of 2,000 threads (2 KB):
                   a reader that copies the stack per count materialises 400 million frames
  inline-deep      a location of 1,000 inlined frames in a stack 100,000 deep: 100 million frames
  zeros            chunks of 256 MiB of zero bytes (empty records of the unknown type 0), 16 KB
  meta-keys        65,537 distinct META keys and COUNTER names: one more than a reader keeps
  meta-repeat      a few keys set 50,000 times each (linear time: the last value wins)
  flood-locations  2,000 locations whose addresses collide under the old, unkeyed location hash
"""
import os
import subprocess
import sys

META, STRING, MAPPING, LOCATION, STACK, THREAD, COUNT, COUNTER, END = range(1, 10)


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def record(rtype, payload):
    return bytes([rtype]) + varint(len(payload)) + payload


def fields(*vals):
    return b"".join(varint(v) for v in vals)


def compress(data):
    """One zstd frame with the content size and a checksum, as the writer makes them."""
    return subprocess.run(["zstd", "-q", "-c", "-19", "--content-size", "--check", "--stream-size=%d" % len(data)],
                          input=data, stdout=subprocess.PIPE, check=True).stdout


def profile(chunks):
    return b"SCORCHPF" + bytes([1, 0, 1, 0, 0, 0, 0, 0]) + b"".join(compress(c) for c in chunks)


def strings(*names):
    return b"".join(record(STRING, n) for n in names)


def deep_threads():
    depth, threads = 200000, 2000
    c = bytearray(strings(b"", b"app", b"deep"))
    c += record(MAPPING, fields(1, 0, 0))
    c += record(LOCATION, fields(0, 0, 0x1000, 1, 2, 0, 0, 0))
    c += record(STACK, varint(depth) + bytes(depth))
    c += b"".join(record(THREAD, fields(1, 1 + t, 1)) for t in range(threads))
    c += b"".join(record(COUNT, fields(0, t, 1)) for t in range(threads))
    c += record(END, varint(threads))
    return profile([bytes(c)])


def inline_deep():
    nf, depth = 1000, 100000
    c = bytearray(strings(b"", b"app", b"inl"))
    c += record(MAPPING, fields(1, 0, 0))
    c += record(LOCATION, fields(0, 0, 0x1000, nf) + fields(2, 0, 0, 1) * (nf - 1) + fields(2, 0, 0, 0))
    c += record(STACK, varint(depth) + bytes(depth))
    c += record(THREAD, fields(1, 1, 1))
    c += record(COUNT, fields(0, 0, 1))
    c += record(END, varint(1))
    return profile([bytes(c)])


def zeros():
    return profile([bytes(256 << 20)] * 2)


def meta_keys():
    n = 65537
    c = bytearray(strings(b""))
    c += b"".join(record(STRING, b"k%d" % i) for i in range(n))
    c += b"".join(record(META, fields(1 + i, 1 + i)) for i in range(n))
    c += b"".join(record(COUNTER, fields(1 + i, i)) for i in range(n))
    c += record(END, varint(0))
    return profile([bytes(c)])


def meta_repeat():
    c = bytearray(strings(b"", b"command", b"hostname", b"samples", b"x"))
    c += (record(META, fields(1, 4)) + record(META, fields(2, 4)) + record(COUNTER, fields(3, 7))) * 50000
    c += record(END, varint(0))
    return profile([bytes(c)])


def unfmix64(x):
    m = (1 << 64) - 1
    x ^= x >> 33
    x = (x * 0x9CB4B2F8129337DB) & m
    x ^= x >> 33
    x = (x * 0x4F74430C22A54005) & m
    x ^= x >> 33
    return x


def flood_locations():
    # The old location hash was fmix64(addr * 31 + mapping), of which the index kept the low 32 bits.
    n, inv31 = 2000, pow(31, -1, 1 << 64)
    c = bytearray(strings(b"", b"app"))
    c += record(MAPPING, fields(1, 0, 0))
    for i in range(n):
        c += record(LOCATION, fields(0, 0, (unfmix64(i << 32 | 0x5CA1AB1E) * inv31) & ((1 << 64) - 1), 0))
    c += record(END, varint(0))
    return profile([bytes(c)])


MAKERS = {
    "deep-threads": deep_threads,
    "inline-deep": inline_deep,
    "zeros": zeros,
    "meta-keys": meta_keys,
    "meta-repeat": meta_repeat,
    "flood-locations": flood_locations,
}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    names = sys.argv[2:] or list(MAKERS)
    for name in names:
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(MAKERS[name]())


if __name__ == "__main__":
    main()
