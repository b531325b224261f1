#!/usr/bin/env python3
"""Counts the distinct colours of a PNG (8-bit RGB or RGBA, as Chromium's
screenshots are) with zlib alone, and checks the picture is not blank.

usage: png_colours.py FILE [--min=N] [--want=#rrggbb ...]
Prints "N colours"; exits 1 with the reason if fewer than N (default 6)
colours appear or a wanted colour (a map kind) has no pixel.
"""
import struct
import sys
import zlib


def png_pixels(data):
    """Yields (r, g, b) of every pixel; only the formats screenshots use."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w, h, depth, ctype = 8, b"", 0, 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG: depth %d type %d" % (depth, ctype))
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(line, prev, f, bpp)
        for x in range(0, stride, bpp):
            yield tuple(line[x:x + 3])
        prev = line


def unfilter(line, prev, f, bpp):
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pred) & 255


def main(argv):
    path, least, want = argv[1], 6, []
    for arg in argv[2:]:
        if arg.startswith("--min="):
            least = int(arg[6:])
        elif arg.startswith("--want="):
            want.append(tuple(int(arg[8 + 2 * i:10 + 2 * i], 16) for i in range(3)))
    counts = {}
    for px in png_pixels(open(path, "rb").read()):
        counts[px] = counts.get(px, 0) + 1
    print("%d colours" % len(counts))
    if len(counts) < least:
        print("blank: %d colours, want at least %d" % (len(counts), least))
        return 1
    for c in want:
        if counts.get(c, 0) < 50:
            print("colour #%02x%02x%02x has %d pixels" % (c + (counts.get(c, 0),)))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
