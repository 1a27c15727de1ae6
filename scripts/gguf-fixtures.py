#!/usr/bin/env python3
"""Writes the GGUF test fixtures with llama.cpp's own `gguf` package (pip install gguf numpy).

core/src/test/resources/gguf/metadata.gguf: metadata of every GGUF value type (arrays too), a
custom alignment, and small tensors of the plain types, for the reader's tests.

jvm-kernels/src/test/resources/gguf/blocks.gguf: a llama.cpp-named MLP (blk.0.ffn_gate Q4_K,
ffn_up Q6_K, ffn_down Q4_0), small decode-check tensors of Q4_0, Q8_0, Q4_K and Q6_K with their
values as gguf.quants.dequantize gives them (test.dequant.*, F32), an F16 and a BF16 weight, an
input (test.x, F32) and the float64 outputs numpy computes from the dequantised weights (F64):
test.y.ffn_down (the Linear blk.0.ffn_down on test.x.down) and test.y.mlp (the SiLU-gated MLP blk.0
on test.x). K-quant blocks are random bytes with finite scales (gguf-py has no K-quant quantiser);
Q4_0 and Q8_0 come from gguf.quants.quantize of Gaussian weights.

Usage: scripts/gguf-fixtures.py [--seed N]   (rewrites both files)
"""
import argparse
import os

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_blocks(rng, qtype, rows, cols):
    """Random raw blocks (rows, row bytes) with every f16 scale finite and of a plausible size."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n = rows * cols // block
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)

    def f16(count, lo, hi):
        v = (rng.uniform(lo, hi, count) * rng.choice([-1, 1], count)).astype(np.float16)
        return v.view(np.uint8).reshape(count, 2)

    if qtype == T.Q4_K:   # d, dmin at bytes 0..3
        raw[:, 0:2] = f16(n, 1e-3, 2e-2)
        raw[:, 2:4] = f16(n, 1e-3, 2e-2)
    elif qtype == T.Q6_K:  # d at the end
        raw[:, size - 2:size] = f16(n, 1e-4, 2e-3)
    elif qtype in (T.Q4_0, T.Q8_0):
        raw[:, 0:2] = f16(n, 1e-3, 5e-2)
    return raw.reshape(rows, cols // block * size)


def quantised(rng, qtype, rows, cols, random=False):
    if random or qtype in (T.Q4_K, T.Q6_K):
        raw = random_blocks(rng, qtype, rows, cols)
    else:
        raw = quants.quantize(rng.normal(0, 0.05, (rows, cols)).astype(np.float32), qtype)
    values = quants.dequantize(raw, qtype).astype(np.float32)
    assert values.shape == (rows, cols)
    return raw, values


def silu(v):
    return v / (1 + np.exp(-v))


def metadata_fixture(path):
    w = gguf.GGUFWriter(path, "llama")
    w.data_alignment = 64
    w.add_custom_alignment(64)
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -100)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4000000000)
    w.add_int32("test.int32", -2000000000)
    w.add_float32("test.float32", 0.5)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo")
    w.add_uint64("test.uint64", 1 << 40)
    w.add_int64("test.int64", -(1 << 40))
    w.add_float64("test.float64", 0.1)
    w.add_array("test.array.int", [1, 2, 3])
    w.add_array("test.array.string", ["a", "bc", ""])
    w.add_array("test.array.nested", [[1, 2], [3]])
    w.add_tensor("t.f32", np.arange(6, dtype=np.float32).reshape(2, 3))
    w.add_tensor("t.f16", np.array([[1.5, -2.0], [0.25, 65504]], dtype=np.float16))
    bf16 = quants.quantize(np.array([[1.0, -3.0, 0.5, 2.0]], dtype=np.float32), T.BF16)
    w.add_tensor("t.bf16", bf16, raw_dtype=T.BF16)
    w.add_tensor("t.i32", np.array([7, -8], dtype=np.int32))
    w.add_tensor("t.q8_0", quants.quantize(np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32), T.Q8_0),
                 raw_dtype=T.Q8_0)
    w.add_tensor("t.3d", np.zeros((2, 1, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def blocks_fixture(path, rng):
    w = gguf.GGUFWriter(path, "llama")
    h, f, m = 256, 32, 3
    gate_raw, gate = quantised(rng, T.Q4_K, f, h)
    up_raw, up = quantised(rng, T.Q6_K, f, h)
    down_raw, down = quantised(rng, T.Q4_0, h, f)
    w.add_tensor("blk.0.ffn_gate.weight", gate_raw, raw_dtype=T.Q4_K)
    w.add_tensor("blk.0.ffn_up.weight", up_raw, raw_dtype=T.Q6_K)
    w.add_tensor("blk.0.ffn_down.weight", down_raw, raw_dtype=T.Q4_0)
    for name, qtype, rows, cols, random in [("q4_0", T.Q4_0, 3, 64, True), ("q8_0", T.Q8_0, 3, 64, True),
                                            ("q4_k", T.Q4_K, 2, 512, True), ("q6_k", T.Q6_K, 2, 512, True)]:
        raw, values = quantised(rng, qtype, rows, cols, random)
        w.add_tensor(f"test.blocks.{name}", raw, raw_dtype=qtype)
        w.add_tensor(f"test.dequant.{name}", values)
    w.add_tensor("blk.1.attn_q.weight", rng.normal(0, 1, (4, 64)).astype(np.float16))
    w.add_tensor("blk.1.attn_k.weight", quants.quantize(rng.normal(0, 1, (4, 64)).astype(np.float32), T.BF16),
                 raw_dtype=T.BF16)
    x = rng.uniform(-1, 1, (m, h)).astype(np.float32)
    x_down = rng.uniform(-1, 1, (m, f)).astype(np.float32)
    w.add_tensor("test.x", x)
    w.add_tensor("test.x.down", x_down)
    x64, g64, u64, d64 = (a.astype(np.float64) for a in (x, gate, up, down))
    w.add_tensor("test.y.ffn_down", x_down.astype(np.float64) @ d64.T)
    w.add_tensor("test.y.mlp", (silu(x64 @ g64.T) * (x64 @ u64.T)) @ d64.T)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    metadata_fixture(os.path.join(ROOT, "core/src/test/resources/gguf/metadata.gguf"))
    blocks_fixture(os.path.join(ROOT, "jvm-kernels/src/test/resources/gguf/blocks.gguf"), rng)


if __name__ == "__main__":
    main()
