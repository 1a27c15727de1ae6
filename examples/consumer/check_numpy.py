#!/usr/bin/env python3
"""Checks the consumer's y against numpy in float64: y = x @ W.T + b from the files Main wrote.

Reads safetensors with numpy alone (an 8-byte header length, a JSON header, raw little-endian data);
bf16 is decoded as the high half of a float32. Usage: check_numpy.py DIR
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np


def read(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        chunk = data[start:end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            values = bits.view(np.float32)
        elif info["dtype"] == "F32":
            values = np.frombuffer(chunk, dtype="<f4")
        else:
            raise SystemExit(f"{path}: {name}: unexpected dtype {info['dtype']}")
        out[name] = values.reshape(info["shape"]).astype(np.float64)
    return out


def main():
    d = Path(sys.argv[1] if len(sys.argv) > 1 else "target/consumer-run")
    layer = read(d / "linear.safetensors")
    x = read(d / "x.safetensors")["x"]
    y = read(d / "y.safetensors")["y"]
    w, b = layer["proj.weight"], layer["proj.bias"]
    ref = x @ w.T + b
    bound = np.abs(x) @ np.abs(w).T + np.abs(b)
    if y.shape != ref.shape:
        raise SystemExit(f"FAILED: y has shape {y.shape}, numpy {ref.shape}")
    worst = float(np.max(np.abs(y - ref) / bound))
    rel_l2 = float(np.linalg.norm(y - ref) / np.linalg.norm(ref))
    print(f"numpy: shape {ref.shape}, relative L2 {rel_l2:.3e}, worst error {worst:.3e} of |x|.|w|+|b|")
    if not (worst <= 1e-5 and rel_l2 <= 1e-5):
        raise SystemExit("FAILED: y differs from numpy's float64 product")
    print("numpy: OK")


if __name__ == "__main__":
    main()
