#!/usr/bin/env python3
"""bench/crashstate.py - a crashed array restored in place before each run.

A fresh sparse copy of a crashed array per run (bench_recover) needs room
for a second array; a 200 M-key base is tens of GB.  Recovery writes
nothing the crashed state reads (docs/FORMAT.md §8 point 7): it appends
bsets past a committed node's written part (bytes no committed reader
reads) or writes nodes to buckets that are free in that state, and its
commit is one superblock write.  So the crashed state comes back when
each device's reserved area (everything before first_bucket *
bucket_size, where both superblock copies live: FORMAT.md §3.1) is
written back.  bench/lib.sh saves those
bytes with dd after synth and writes them back before every run; this
file does the rest:

  layout SHOW_SUPER_JSON   one line per device of `jrx show-super --json`:
                           "PATH BUCKET_SIZE FIRST_BUCKET" (the reserved
                           area is FIRST_BUCKET buckets), then a line
                           "node NODE_SIZE seq SEQ clean 0|1"
  save DEV...              record each device's data ranges (SEEK_DATA /
                           SEEK_HOLE) in DEV.map: the crashed state's
                           allocated blocks, the rest being holes
  punch DEV...             punch (fallocate PUNCH_HOLE) every data range of
                           DEV outside DEV.map: the nodes and appended bsets
                           the last recovery wrote into what were holes
                           become holes again, so every run writes into
                           unallocated space as the first did, and the disk
                           use does not grow.
                           The holes read as zeros, as they did after
                           synth: the bytes the crashed state reads are
                           unchanged.  Prints the bytes punched.
  check DEV...             exit 1 unless each device's data ranges equal
                           DEV.map (after punch: nothing else is allocated)

Python standard library only (ctypes for fallocate).
"""
import ctypes
import ctypes.util
import json
import os
import sys

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02


def layout(text):
    sb = json.loads(text)
    for m in sb["members"]:
        print("%s %d %d" % (m["path"], sb["bucket_size"], m["first_bucket"]))
    print("node %d seq %d clean %d" % (sb["btree_node_size"], sb["seq"],
                                      1 if sb["clean"] else 0))


def data_ranges(path):
    """[(start, end)] of the allocated (data) ranges of a sparse file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        out, off = [], 0
        while off < size:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:         # ENXIO: no data past off
                break
            h = os.lseek(fd, d, os.SEEK_HOLE)
            if out and out[-1][1] == d:
                out[-1] = (out[-1][0], h)
            else:
                out.append((d, h))
            off = h
        return out
    finally:
        os.close(fd)


def read_map(path):
    with open(path + ".map") as f:
        return [tuple(int(x) for x in line.split()) for line in f if line.strip()]


def subtract(have, keep):
    """The parts of the ranges `have` outside the ranges `keep` (both sorted)."""
    out, j = [], 0
    for s, e in have:
        while j < len(keep) and keep[j][1] <= s:
            j += 1
        k = j
        while s < e:
            if k < len(keep) and keep[k][0] < e:
                ks, ke = keep[k]
                if ks > s:
                    out.append((s, ks))
                s = max(s, ke)
                k += 1
            else:
                out.append((s, e))
                break
    return out


def save(devs):
    os.sync()
    for p in devs:
        with open(p + ".map", "w") as f:
            for s, e in data_ranges(p):
                f.write("%d %d\n" % (s, e))


def punch(devs):
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    os.sync()
    total = 0
    for p in devs:
        extra = subtract(data_ranges(p), read_map(p))
        fd = os.open(p, os.O_RDWR)
        try:
            for s, e in extra:
                if libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, s, e - s):
                    err = ctypes.get_errno()
                    sys.exit("bench/crashstate.py: %s: punching [%d, %d): %s" %
                             (p, s, e, os.strerror(err)))
                total += e - s
            os.fsync(fd)
        finally:
            os.close(fd)
    print(total)


def check(devs):
    bad = 0
    for p in devs:
        now, saved = data_ranges(p), read_map(p)
        if now != saved:
            extra = subtract(now, saved)
            missing = subtract(saved, now)
            print("bench/crashstate.py: %s: data ranges differ from the crashed "
                  "state's: %d bytes more, %d bytes fewer" % (
                      p, sum(e - s for s, e in extra), sum(e - s for s, e in missing)),
                  file=sys.stderr)
            bad = 1
    sys.exit(bad)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "layout":
        layout(args[0])
    elif cmd == "save":
        save(args)
    elif cmd == "punch":
        punch(args)
    elif cmd == "check":
        check(args)
    else:
        sys.exit("bench/crashstate.py: unknown subcommand %s\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    main(sys.argv)
