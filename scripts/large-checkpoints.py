#!/usr/bin/env python3
"""Writes the large checkpoints the loading-memory figures in docs/MEMORY.md are measured on.

Each is a Hugging Face model folder (model.safetensors + config.json) with one layer under the
prefix `layer`, its weights drawn like a real checkpoint's (normal, std 1/sqrt(in_features)),
written a band of rows at a time so that this script needs little memory. Also writes x.safetensors
(one F32 row) beside each.

    python3 scripts/large-checkpoints.py OUT_DIR [bf16-mlp] [gptq-int4] [fp8-rowwise]
"""
import json
import os
import struct
import sys

import numpy as np

BAND = 256  # rows generated at once


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, nbytes, fill(file)) written in order."""
    header, offset = {}, 0
    for name, dtype, shape, nbytes, _ in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, _, _, nbytes, fill in tensors:
            start = f.tell()
            fill(f)
            assert f.tell() - start == nbytes, name


def bf16_rows(rng, rows, cols):
    def fill(f):
        for r in range(0, rows, BAND):
            n = min(BAND, rows - r)
            w = (rng.standard_normal((n, cols), dtype=np.float32) * np.float32(1 / np.sqrt(cols))).view(np.uint32)
            f.write(((w + 0x7FFF + ((w >> 16) & 1)) >> 16).astype(np.uint16).tobytes())  # round to nearest even
    return fill


def bytes_of(rng, count, low=0, high=256, avoid=()):
    def fill(f):
        left = count
        while left:
            n = min(left, 1 << 26)
            b = rng.integers(low, high, n, dtype=np.uint8)
            for a in avoid:
                b[b == a] = 0
            f.write(b.tobytes())
            left -= n
    return fill


def array(a):
    return lambda f: f.write(np.ascontiguousarray(a).tobytes())


def x_file(folder, cols, rng):
    x = rng.standard_normal((1, cols), dtype=np.float32)
    write_safetensors(os.path.join(folder, "x.safetensors"), [("x", "F32", x.shape, x.nbytes, array(x))])


def folder(out, name, config):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    return d


def bf16_mlp(out, rng, hidden=16384, inter=64512):
    d = folder(out, "bf16-mlp", {"torch_dtype": "bfloat16", "hidden_size": hidden, "intermediate_size": inter})
    t = []
    for proj, rows, cols in (("gate_proj", inter, hidden), ("up_proj", inter, hidden), ("down_proj", hidden, inter)):
        t.append((f"layer.{proj}.weight", "BF16", (rows, cols), 2 * rows * cols, bf16_rows(rng, rows, cols)))
    write_safetensors(os.path.join(d, "model.safetensors"), t)
    x_file(d, hidden, rng)


def gptq_int4(out, rng, inf=32768, outf=65536, group=128):
    d = folder(out, "gptq-int4", {"torch_dtype": "float16", "quantization_config": {
        "quant_method": "gptq", "bits": 4, "group_size": group, "desc_act": False, "sym": True}})
    groups = inf // group
    scales = (rng.random((groups, outf), dtype=np.float32) * 0.002 + 0.001).astype(np.float16)
    qzeros = np.full((groups, outf // 8), 0x77777777, dtype=np.uint32).view(np.int32)  # v1: zero 8 stored as 7
    t = [("layer.qweight", "I32", (inf // 8, outf), 4 * inf // 8 * outf, bytes_of(rng, 4 * inf // 8 * outf)),
         ("layer.qzeros", "I32", qzeros.shape, qzeros.nbytes, array(qzeros)),
         ("layer.scales", "F16", scales.shape, scales.nbytes, array(scales))]
    write_safetensors(os.path.join(d, "model.safetensors"), t)
    x_file(d, inf, rng)


def e4m3_values():
    """The 127 non-negative finite e4m3fn values, by code."""
    codes = np.arange(127)
    exp, man = codes >> 3, codes & 7
    return np.where(exp == 0, man / 8 * 2.0 ** -6, (1 + man / 8) * 2.0 ** (exp - 7))


def fp8_rowwise(out, rng, n=32768):
    """Quantised as fbgemm does it: each row of a normal weight scaled by amax / 448, rounded to e4m3."""
    d = folder(out, "fp8-rowwise", {"torch_dtype": "bfloat16", "quantization_config": {
        "quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0}})
    values = e4m3_values()
    mid = (values[1:] + values[:-1]) / 2
    scale = np.empty((n, 1), dtype=np.float32)

    def codes(f):
        for r in range(0, n, BAND):
            w = rng.standard_normal((min(BAND, n - r), n), dtype=np.float32) * np.float32(1 / np.sqrt(n))
            s = np.abs(w).max(axis=1, keepdims=True) / np.float32(448)
            scale[r:r + len(w)] = s
            q = w / s
            c = np.searchsorted(mid, np.abs(q)).astype(np.uint8) | np.where(q < 0, 0x80, 0).astype(np.uint8)
            f.write(c.tobytes())

    t = [("layer.weight", "F8_E4M3", (n, n), n * n, codes),
         ("layer.weight_scale", "F32", scale.shape, scale.nbytes, lambda f: f.write(scale.tobytes()))]
    write_safetensors(os.path.join(d, "model.safetensors"), t)
    x_file(d, n, rng)


if __name__ == "__main__":
    out = sys.argv[1]
    which = sys.argv[2:] or ["bf16-mlp", "gptq-int4", "fp8-rowwise"]
    rng = np.random.default_rng(1)
    for w in which:
        {"bf16-mlp": bf16_mlp, "gptq-int4": gptq_int4, "fp8-rowwise": fp8_rowwise}[w](out, rng)
        print("wrote", os.path.join(out, w), flush=True)
