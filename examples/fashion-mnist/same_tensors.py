#!/usr/bin/env python3
"""Compares the tensors two safetensors files hold under names starting with PREFIX, byte for byte.

usage: python3 same_tensors.py A.safetensors B.safetensors PREFIX
Prints one line per tensor (identical / differs) and exits 1 if any differs or is missing.
"""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    header.pop("__metadata__", None)
    return {name: data[e["data_offsets"][0]:e["data_offsets"][1]] for name, e in header.items()}


def main():
    a, b, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    left, right = tensors(a), tensors(b)
    names = sorted(n for n in left if n.startswith(prefix))
    if not names:
        print(f"no tensor of {a} starts with {prefix!r}")
        return 1
    failed = False
    for name in names:
        same = name in right and left[name] == right[name]
        failed |= not same
        print(f"{name}: {'identical' if same else 'differs' if name in right else 'missing'} ({len(left[name])} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
