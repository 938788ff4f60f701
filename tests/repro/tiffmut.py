#!/usr/bin/python3
"""tiffmut: the mutations of ../shared/fuzz-repro/slides_silent, applied to a classic little-endian TIFF.

Usage (each writes OUT from IN):
  tiffmut.py settag IN OUT DIR TAG VALUE      set a SHORT/LONG tag of directory DIR (inline value) to VALUE
  tiffmut.py retag IN OUT DIR TAG NEWTAG      renumber a tag (NEWTAG must keep the entries sorted)
  tiffmut.py flip IN OUT DIR TILE N SEED      flip N bytes (xor 0xff) inside tile TILE's data, spread evenly
  tiffmut.py zero IN OUT DIR TILE             zero a tile's data from its middle to its end (at most 64 KiB)
  tiffmut.py cut IN OUT DIR TILE              cut the file in the middle of a tile's data
  tiffmut.py ifdfirst IN OUT                  rewrite one-directory IN so that its directory comes before the data
  tiffmut.py tiles IN DIR                     print the number of tiles of directory DIR
The simulator's slides (hetsurv simulate) are classic TIFF, little-endian.
"""
import random
import struct
import sys

TYPES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}


def dirs(b):
    assert b[:4] == b"II*\0", "classic little-endian TIFF expected"
    off = struct.unpack_from("<I", b, 4)[0]
    out = []
    while off:
        n = struct.unpack_from("<H", b, off)[0]
        ents = {}
        for i in range(n):
            p = off + 2 + 12 * i
            tag, typ, cnt = struct.unpack_from("<HHI", b, p)
            ents[tag] = (p, typ, cnt)
        out.append((off, n, ents))
        off = struct.unpack_from("<I", b, off + 2 + 12 * n)[0]
    return out


def values(b, ent):
    p, typ, cnt = ent
    size = TYPES[typ]
    fmt = {2: "H", 4: "I"}[size]
    at = p + 8 if size * cnt <= 4 else struct.unpack_from("<I", b, p + 8)[0]
    return list(struct.unpack_from("<%d%s" % (cnt, fmt), b, at))


def tile(b, d, t):
    e = dirs(b)[d][2]
    return values(b, e[324])[t], values(b, e[325])[t]


def main(a):
    cmd = a[0]
    if cmd == "tiles":
        print(len(values(open(a[1], "rb").read(), dirs(open(a[1], "rb").read())[int(a[2])][2][324])))
        return
    b = bytearray(open(a[1], "rb").read())
    out = a[2]
    if cmd == "settag":
        d, tag, val = int(a[3]), int(a[4]), int(a[5])
        p, typ, cnt = dirs(b)[d][2][tag]
        struct.pack_into("<H" if typ == 3 else "<I", b, p + 8, val)
    elif cmd == "retag":
        d, tag, new = int(a[3]), int(a[4]), int(a[5])
        p = dirs(b)[d][2][tag][0]
        struct.pack_into("<H", b, p, new)
    elif cmd in ("flip", "zero", "cut"):
        d, t = int(a[3]), int(a[4])
        off, cnt = tile(b, d, t)
        if cmd == "flip":
            n, rnd = int(a[5]), random.Random(int(a[6]))
            for k in range(n):
                # past the first 700 bytes (JPEG headers, zlib header): the entropy-coded data
                lo = min(700, cnt // 4) + k * (cnt - min(700, cnt // 4)) // n
                hi = min(700, cnt // 4) + (k + 1) * (cnt - min(700, cnt // 4)) // n
                b[off + rnd.randrange(lo, max(lo + 1, hi))] ^= 0xFF
        elif cmd == "zero":
            start = off + cnt // 2
            n = min(65536, off + cnt - start)
            b[start:start + n] = bytes(n)
        else:
            b = b[:off + cnt // 2]
    elif cmd == "ifdfirst":
        (off, n, ents), = dirs(b)
        # new layout: header, directory (with its out-of-line values copied after it), then the old file's data
        head = 8
        ifd_len = 2 + 12 * n + 4
        extra = bytearray()
        table = bytearray(struct.pack("<H", n))
        moved = {}
        for tag in sorted(ents):
            p, typ, cnt = ents[tag]
            size = TYPES.get(typ, 1) * cnt
            raw = bytearray(b[p:p + 12])
            if size > 4:
                src = struct.unpack_from("<I", b, p + 8)[0]
                moved[tag] = head + ifd_len + len(extra)
                struct.pack_into("<I", raw, 8, moved[tag])
                extra += b[src:src + size]
                if len(extra) % 2:
                    extra += b"\0"
            table += raw
        table += struct.pack("<I", 0)
        shift = head + ifd_len + len(extra)
        data = b[8:off]  # everything the old file held before its directory (the tiles)
        nb = bytearray(b"II*\0" + struct.pack("<I", 8)) + table + extra + data
        # tile offsets move by shift - 8
        nd = dirs(nb)[0][2]
        p, typ, cnt = nd[324]
        at = p + 8 if cnt == 1 else struct.unpack_from("<I", nb, p + 8)[0]
        for i in range(cnt):
            v = struct.unpack_from("<I", nb, at + 4 * i)[0]
            struct.pack_into("<I", nb, at + 4 * i, v - 8 + shift)
        b = nb
    else:
        sys.exit("tiffmut: unknown command " + cmd)
    open(out, "wb").write(b)


if __name__ == "__main__":
    main(sys.argv[1:])
