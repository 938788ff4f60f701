#!/usr/bin/python3
"""Writes the slide harness's small seeds into corpus/slide: tiled pyramidal TIFFs (RGB, uncompressed,
deflate, JPEG, YCbCr JPEG; generic and Aperio-described), a stripped TIFF and PNGs, each a few KB, so that
fuzzing mutates small files.  Usage: tests/fuzz/make_slide_seeds.py OUT_DIR"""
import io, struct, sys, zlib
from PIL import Image

out = sys.argv[1]

def image(w, h, seed):
    im = Image.new("RGB", (w, h), (240, 238, 235))
    px = im.load()
    for y in range(h):
        for x in range(w):
            if ((x // 6 + y // 5 + seed) % 3) == 0:
                px[x, y] = (120 + (x * 7) % 60, 80 + (y * 5) % 50, 60)
    return im

def tiff(levels, tile, comp, photometric=2, desc=None, res=None):
    """levels: PIL images, largest first.  comp: 1 none, 8 deflate, 7 JPEG."""
    body, ifds = bytearray(b"II*\0\0\0\0\0"), []
    for li, im in enumerate(levels):
        w, h = im.size
        tiles = []
        for ty in range(0, h, tile):
            for tx in range(0, w, tile):
                t = Image.new("RGB", (tile, tile), (255, 255, 255))
                t.paste(im.crop((tx, ty, min(tx + tile, w), min(ty + tile, h))), (0, 0))
                if comp == 7:
                    b = io.BytesIO()
                    t.save(b, "JPEG", quality=60, subsampling=0 if photometric == 2 else 2)
                    tiles.append(b.getvalue())
                else:
                    raw = t.tobytes()
                    tiles.append(zlib.compress(raw) if comp == 8 else raw)
        offs = []
        for t in tiles:
            offs.append(len(body))
            body += t
            if len(body) % 2:
                body += b"\0"
        tags = [(254, 4, [0 if li == 0 else 1]), (256, 4, [w]), (257, 4, [h]), (258, 3, [8, 8, 8]),
                (259, 3, [comp]), (262, 3, [photometric]), (277, 3, [3]), (284, 3, [1]),
                (322, 4, [tile]), (323, 4, [tile]), (324, 4, offs), (325, 4, [len(t) for t in tiles])]
        if desc and li == 0:
            tags.append((270, 2, desc.encode() + b"\0"))
        if res and li == 0:
            tags += [(282, 5, [res, 1]), (283, 5, [res, 1]), (296, 3, [3])]
        ifds.append(tags)
    # directories after the data, chained
    size = {2: 1, 3: 2, 4: 4, 5: 8}
    first = len(body)
    struct.pack_into("<I", body, 4, first)
    for i, tags in enumerate(ifds):
        tags.sort()
        start = len(body)
        extra_at = start + 2 + 12 * len(tags) + 4
        entries, extra = b"", bytearray()
        for tag, typ, vals in tags:
            if typ == 2:
                data, count = bytes(vals), len(vals)
            elif typ == 5:
                data, count = struct.pack("<%dI" % len(vals), *vals), len(vals) // 2
            else:
                data, count = struct.pack("<%d%s" % (len(vals), "H" if typ == 3 else "I"), *vals), len(vals)
            if len(data) <= 4:
                entries += struct.pack("<HHI", tag, typ, count) + data.ljust(4, b"\0")
            else:
                entries += struct.pack("<HHII", tag, typ, count, extra_at + len(extra))
                extra += data + (b"\0" if len(data) % 2 else b"")
        nxt = 0 if i == len(ifds) - 1 else extra_at + len(extra)
        body += struct.pack("<H", len(tags)) + entries + struct.pack("<I", nxt) + extra
    return bytes(body)

big, small = image(64, 48, 0), image(32, 24, 0)
seeds = {
    "tiled_none.tif": tiff([big, small], 16, 1, res=20000),
    "tiled_deflate.tif": tiff([big, small], 16, 8, res=20000),
    "tiled_jpeg_rgb.tif": tiff([big], 16, 7, res=20000),
    "tiled_jpeg_ycbcr.tif": tiff([big, small], 16, 7, photometric=6),
    "aperio_deflate.tif": tiff([big, small], 16, 8, desc="Aperio Image Library v10\n64x48 |AppMag = 20|MPP = 0.4990"),
}
for name, data in seeds.items():
    open(f"{out}/{name}", "wb").write(data)
im = image(24, 20, 1)
im.save(f"{out}/strip.tif", compression="tiff_deflate", dpi=(50800, 50800))
im.save(f"{out}/plain.png", dpi=(50800, 50800))
im.convert("RGBA").save(f"{out}/alpha.png")
im.convert("L").save(f"{out}/grey.png")
im.convert("P").save(f"{out}/palette.png")
