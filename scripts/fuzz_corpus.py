#!/usr/bin/env python3
"""fuzz_corpus.py - seed corpora for the libFuzzer targets of fuzz/, cut
out of the member devices of a real array (docs/FUZZING.md).

    python3 scripts/fuzz_corpus.py OUTDIR DEV...

Reads the superblocks (primary and backup), every jset of every journal
bucket (FORMAT.md 5.5: from offset 0 while the jset magic holds) and every
btree node (node magic at a node-size boundary outside the journal, its
written part found by walking the bsets as 7.4 does), and writes each as
an input of its target in OUTDIR/<target>/, with the control bytes that
target reads first (fuzz/*.c say which):

  sb      [flags][8192 bytes]
  jset    [flags][uuid[0..8)][the jset's blocks]
  node    [flags][blocks][size][nbl][uuid[8..16)][blacklist][written part]
  jindex  [flags][uuid[0..8)][journal_seq][nbl][ranges][buckets...]

Every structure is written as it is (flags 0: its own checksums must
hold) and with the target's fix-up flags set.  File names are the
content's sha1, so identical copies (a backup superblock, a replica) and
a second run over the same array add nothing.  Only the
standard library; no checksum is computed here.
"""
import hashlib
import os
import struct
import sys

SB_OFFSETS = (4096, 512 * 1024)
SB_SIZE = 8192
SB_MAGIC = b"jrx superblock\0\0"
JSET_XOR = 0x6A7365742D6A7278
NODE_XOR = 0x65646F6E2D6A7278
BLOCK = 4096
FIX_ALL = 0xFF          # every fix-up flag the targets know
MAX_PER_TARGET = 48


def write(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def u64(b, off):
    return struct.unpack_from("<Q", b, off)[0]


def u32(b, off):
    return struct.unpack_from("<I", b, off)[0]


def read_sb(f):
    """(offset, bytes) of each copy with the magic."""
    out = []
    for off in SB_OFFSETS:
        f.seek(off)
        b = f.read(SB_SIZE)
        if len(b) == SB_SIZE and b[8:24] == SB_MAGIC:
            out.append((off, b))
    return out


def geometry(sb):
    g = {
        "uuid": sb[24:40], "dev_idx": u32(sb, 72), "bucket": u32(sb, 84),
        "node": u32(sb, 88), "journal_seq": u64(sb, 104),
        "nr_bl": u32(sb, 112),
        "bl": [(u64(sb, 120 + 16 * i), u64(sb, 128 + 16 * i))
               for i in range(min(u32(sb, 112), 32))],
    }
    m = 1400 + 64 * g["dev_idx"]
    g["nbuckets"], g["first"], g["jbucket"] = (u64(sb, m + 16), u64(sb, m + 24),
                                               u64(sb, m + 32))
    g["jnr"] = u32(sb, m + 40)
    return g


def jsets(f, g):
    """(dev, seq, bytes) of every jset the scan of each journal bucket meets."""
    magic = struct.pack("<Q", u64(g["uuid"], 0) ^ JSET_XOR)
    out = []
    for b in range(g["jbucket"], g["jbucket"] + g["jnr"]):
        f.seek(b * g["bucket"])
        buf = f.read(g["bucket"])
        pos = 0
        while pos + 40 <= len(buf) and buf[pos + 8:pos + 16] == magic:
            n = 40 + 8 * u32(buf, pos + 36)
            size = (n + BLOCK - 1) // BLOCK * BLOCK
            if pos + size > len(buf):
                break
            out.append((g["dev_idx"], u64(buf, pos + 16), buf[pos:pos + size]))
            pos += size
    return out


def nodes(f, g):
    """(btree_id, level, bsets, node bytes up to its written part)."""
    magic = struct.pack("<Q", u64(g["uuid"], 8) ^ NODE_XOR)
    nsize, out = g["node"], []
    jr = range(g["jbucket"], g["jbucket"] + g["jnr"])
    for b in range(g["first"], g["nbuckets"]):
        if b in jr:
            continue
        for off in range(0, g["bucket"], nsize):
            f.seek(b * g["bucket"] + off)
            if f.read(16)[8:16] != magic:
                continue
            f.seek(b * g["bucket"] + off)
            img = f.read(nsize)
            nonce = u64(img, 16)
            pos, end, bsets, seqs = 80, 0, 0, []
            while pos + 32 <= nsize:
                if u64(img, pos + 8) != nonce or u32(img, pos + 4) != pos // BLOCK:
                    break
                n = 32 + 8 * u32(img, pos + 24)
                if pos + n > nsize:
                    break
                end, bsets = pos + n, bsets + 1
                seqs.append(u64(img, pos + 16))
                pos = (pos + n + BLOCK - 1) // BLOCK * BLOCK
            if bsets:
                blocks = (end + BLOCK - 1) // BLOCK
                out.append((img[24], img[25], bsets, seqs, img[:blocks * BLOCK]))
    return out


def spread(items, n):
    """n items spread evenly over the list (all if fewer)."""
    if len(items) <= n:
        return items
    return [items[i * len(items) // n] for i in range(n)]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    outdir, devs = sys.argv[1], sys.argv[2:]
    all_j, all_n, geo = [], [], None
    for path in devs:
        with open(path, "rb") as f:
            copies = read_sb(f)
            if not copies:
                sys.exit(f"fuzz_corpus: {path}: no jrx superblock")
            for _, sb in copies:
                for flags in (0, FIX_ALL):
                    write(outdir, "sb", bytes([flags]) + sb)
            g = geometry(copies[0][1])
            geo = geo or g
            all_j += jsets(f, g)
            all_n += nodes(f, g)

    # jset: a spread of seqs and sizes, as they are and fixed up
    uuid_lo = geo["uuid"][:8]
    one_dev = sorted((j for j in all_j if j[0] == all_j[0][0]), key=lambda j: j[1])
    for _, _, b in spread(one_dev, MAX_PER_TARGET // 2):
        for flags in (0, 0x03):
            write(outdir, "jset", bytes([flags]) + uuid_lo + b)

    # node: every kind (btree, level, bset count), then a spread of the rest
    size_code = max(0, (geo["node"] // 16384).bit_length() - 1) & 3
    uuid_hi = geo["uuid"][8:16]
    kinds, rest = {}, []
    for n in all_n:
        kind = (n[0], n[1], min(n[2], 3))
        if kind in kinds:
            rest.append(n)
        else:
            kinds[kind] = n
    chosen = list(kinds.values()) + spread(rest, max(0, MAX_PER_TARGET // 2 - len(kinds)))
    for bt, lvl, bsets, seqs, img in chosen:
        blocks = len(img) // BLOCK
        for flags in (0, 0x07):
            write(outdir, "node", bytes([flags, blocks, size_code, 0]) + uuid_hi + img)
        if bsets > 1:       # the last bset's seq blacklisted: skipped
            bl = struct.pack("<QQ", seqs[-1], seqs[-1])
            write(outdir, "node", bytes([0, blocks, size_code, 1]) + uuid_hi + bl + img)

    # jindex: runs of consecutive seqs, every copy a bucket of its own
    by_seq = {}
    for dev, seq, b in all_j:
        by_seq.setdefault(seq, []).append((dev, b))
    seqs = sorted(s for s in by_seq if s > geo["journal_seq"])
    hdr_bl = [(s, e) for s, e in geo["bl"] if s < 256 and e < 256][:3]
    head = bytes([min(geo["journal_seq"], 255), len(hdr_bl)])
    head += b"".join(bytes([s, e]) for s, e in hdr_bl)
    n = 0
    for start in range(0, len(seqs), 4):
        run, buckets, prev = seqs[start:start + 6], b"", None
        nb = 0
        for s in run:
            for dev, b in by_seq[s]:
                if nb == 16 or len(b) > 0xFFFF:
                    break
                if prev == b:
                    buckets += bytes([0x04 | (dev & 3)])
                else:
                    buckets += bytes([dev & 3]) + struct.pack("<H", len(b)) + b
                prev, nb = b, nb + 1
        for flags in (0, 0x03, 0x07):
            write(outdir, "jindex", bytes([flags]) + uuid_lo + head + buckets)
        n += 3
        if n >= MAX_PER_TARGET:
            break
    print("fuzz_corpus: " + ", ".join(
        f"{t} {len(os.listdir(os.path.join(outdir, t)))}"
        for t in ("sb", "jset", "node", "jindex") if os.path.isdir(os.path.join(outdir, t)))
        + f" inputs in {outdir}")


if __name__ == "__main__":
    main()
