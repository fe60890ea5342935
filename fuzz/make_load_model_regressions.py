#!/usr/bin/env python3
"""Writes hand-made hostile model files to tests/data/fuzz_regressions/load_model/.

Each starts from the seed corpus/load_model/tiny_adam_bce.kcpp, changes one field the way a
corrupted or malicious file would (sizes far beyond the file, counts of billions, bad enums and
values), and recomputes the trailing CRC-32 so the change reaches the parser behind the checksum.
Every file must make load_model and load_weights throw a kerascpp exception, quickly and without
a large allocation; tests/test_serialization.cpp loads them all.
Usage: python3 fuzz/make_load_model_regressions.py
"""
import pathlib
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent
SEED = HERE / "corpus" / "load_model" / "tiny_adam_bce.kcpp"
OUT = HERE.parent / "tests" / "data" / "fuzz_regressions" / "load_model"


def with_crc(data: bytearray) -> bytes:
    data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])) & 0xFFFFFFFF)
    return bytes(data)


def section(data: bytes, tag: bytes) -> int:
    """Offset of the payload of section `tag`."""
    return data.index(tag) + 12


def main() -> None:
    seed = SEED.read_bytes()
    wght = section(seed, b"WGHT")
    # WGHT payload: input width (8), layer count (4), type "Dense" (4+5), name "dense" (4+5),
    # weight count (4), name "kernel" (4+6), trainable (1), dtype (1), rows (8), cols (8).
    kernel_dtype = wght + 8 + 4 + 9 + 9 + 4 + 10 + 1
    cases = {}

    def patch(name, offset, fmt, value):
        data = bytearray(seed)
        struct.pack_into(fmt, data, offset, value)
        cases[name] = with_crc(data)

    def replace(name, old, new):
        data = bytearray(seed.replace(old, new, 1))
        cases[name] = with_crc(data)

    patch("crafted-section-length-past-end.kcpp", section(seed, b"ARCH") - 8, "<Q", 0xFFFFFFFFFFFFFFFF)
    patch("crafted-layer-count-4g.kcpp", section(seed, b"ARCH"), "<I", 0xFFFFFFFF)
    patch("crafted-string-length-4g.kcpp", wght + 12, "<I", 0xFFFFFFF0)
    patch("crafted-tensor-rows-2g.kcpp", kernel_dtype + 1, "<Q", 2_000_000_000)
    patch("crafted-tensor-rows-u64-max.kcpp", kernel_dtype + 1, "<Q", 0xFFFFFFFFFFFFFFFF)
    patch("crafted-dtype-7.kcpp", kernel_dtype, "<B", 7)
    patch("crafted-input-width-negative.kcpp", wght, "<q", -5)
    patch("crafted-input-width-2g.kcpp", wght, "<q", 2_000_000_000)
    patch("crafted-version-3.kcpp", 12, "<I", 3)
    replace("crafted-units-huge.kcpp", b"\x01\x00\x00\x002", b"\x01\x00\x00\x009")
    replace("crafted-dropout-rate-nan.kcpp", b"0.25", b"nan\x00")
    replace("crafted-unknown-layer-type.kcpp", b"Dropout", b"Dropput")
    replace("crafted-activation-unknown.kcpp", b"sigmoid", b"sigmoix")
    data = bytearray(seed)
    data[len(data) // 2] ^= 0xFF
    cases["crafted-bad-checksum.kcpp"] = bytes(data)
    cases["crafted-truncated-header.kcpp"] = seed[:13]
    cases["crafted-empty.kcpp"] = b""

    OUT.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(cases.items()):
        (OUT / name).write_bytes(content)
        print(f"{len(content):6d}  {name}")


if __name__ == "__main__":
    main()
