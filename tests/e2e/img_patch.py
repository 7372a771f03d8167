#!/usr/bin/env python3
"""img_patch.py IN OUT TYPE OFFSET FMT VALUE [NTH] - a copy of image IN with
one field of its first (or NTH, from 0) record of TYPE changed:
struct.pack(FMT, VALUE) at OFFSET bytes into the payload.  The record's and the END record's
checksums are recomputed, so the reader accepts the bytes and only the
value itself can be refused (a hostile but well-formed image)."""
import struct
import sys

def crc32c(data, crc=0):
    """CRC32C (Castagnoli), continuing from crc (zlib's convention)."""
    crc ^= 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1))
    return crc ^ 0xffffffff

def fix_record(b, off, ln):
    struct.pack_into('<I', b, off + 16, crc32c(bytes(b[off + 24:off + 24 + ln]), crc32c(bytes(b[off:off + 16]))))

def main():
    src, dst, typ, field, fmt, value = sys.argv[1:7]
    typ, field = int(typ, 0), int(field, 0)
    nth = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    b = bytearray(open(src, 'rb').read())
    off, done = 128, False
    while off + 24 <= len(b):
        t, _, _, ln = struct.unpack_from('<IHHQ', b, off)
        if t == typ and not done and nth:
            nth -= 1
        elif t == typ and not done:
            struct.pack_into(fmt, b, off + 24 + field, int(value, 0))
            fix_record(b, off, ln)
            done = True
        if t == 0xffff:
            struct.pack_into('<I', b, off + 24 + 16, crc32c(bytes(b[:off])))
            fix_record(b, off, ln)
            break
        if t == 6:  # MPAGES: its page data follows the record
            _, npages, data_off = struct.unpack_from('<QQQ', b, off + 24)
            off = data_off + npages * 4096
            continue
        off += 24 + ln
    if not done:
        sys.exit('no record of type %d' % typ)
    open(dst, 'wb').write(b)

main()
