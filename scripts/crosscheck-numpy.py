#!/usr/bin/env python3
"""Checks `tornado-nn run` against float64 numpy, computed outside the project.

Writes random checkpoints and inputs as safetensors (with its own writer), runs the command for
Linear and MLP over every activation, F32/BF16/F16 weights, bias on and off, clipping on and off;
for GPTQ (packed here, 2/3/4/8 bits, v1 and v2 zeros, act-order) and FP8 (static, per-token and
block scaling, Hugging Face configs); for GGUF files written by llama.cpp's gguf package (Q4_0, Q8_0,
Q4_K, Q6_K; Linear and MLP under llama.cpp's names; skipped when `import gguf` fails); for Hugging Face model folders as transformers and AutoGPTQ
write them (config.json or quantize_config.json, one file or an index and its shards), where the
command finds the format from the tensors and the folder's config alone; for layouts as the tools
themselves write them, with torch, safetensors and transformers' own modules when those are
installed (compressed-tensors F16 scales, FineGrainedFP8 static, AutoFP8 dynamic, fbgemm e5m2,
AutoGPTQ partial groups and v1 zeros of 2^bits, Phi-3's fused gate_up_proj, fbgemm FP8 sharded
along its inputs; compressed-tensors INT8 W8A8, static and dynamic, symmetric and asymmetric, x
quantised as vLLM quantises it); for the weight-only formats as their tools pack them (AWQ GEMM as AutoAWQ's
from_linear, compressed-tensors pack-quantized W4A16/W8A16 as its pack_to_int32, compressed-tensors
FP8 W8A16) and a bf16 model quantised to fp8 by `run --quantize`; and compares the output with numpy's float64 result from the exactly decoded
tensors. Then feeds it malformed files and bad
options, and expects a non-zero exit with a one-line message each time.

Usage: scripts/crosscheck-numpy.py [--seed N]   (needs python3 with numpy)
"""
import argparse
import copy
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(ROOT, "bin", "tornado-nn")


# ---------------------------------------------------------------- safetensors, independently

def to_bf16_bits(a):
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16  # round to nearest even
    return rounded.astype(np.uint16)


def from_bf16_bits(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def encode(a, dtype):
    """(raw bytes, exactly decoded float64 values) of `a` stored as dtype."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes(), a.astype(np.float64)
    if dtype == "F16":
        h = a.astype("<f2")
        return h.tobytes(), h.astype(np.float64)
    if dtype == "BF16":
        b = to_bf16_bits(a).astype("<u2")
        return b.tobytes(), from_bf16_bits(b).astype(np.float64)
    raise ValueError(dtype)


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype, shape, raw bytes); metadata: the optional __metadata__ strings."""
    header, blobs, offset = ({"__metadata__": metadata} if metadata else {}), [], 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_f32(path, name):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    entry = json.loads(data[8:8 + n])[name]
    assert entry["dtype"] == "F32", entry
    begin, end = entry["data_offsets"]
    return np.frombuffer(data[8 + n + begin:8 + n + end], dtype="<f4").astype(np.float64).reshape(entry["shape"])


# ---------------------------------------------------------------- the float64 model

ERF = np.vectorize(math.erf)
ACTIVATIONS = {
    "silu": lambda v: v / (1 + np.exp(-v)),
    "gelu": lambda v: 0.5 * v * (1 + ERF(v / math.sqrt(2))),
    "gelu_tanh": lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))),
    "relu": lambda v: np.maximum(v, 0),
    "tanh": np.tanh,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "quick_gelu": lambda v: v / (1 + np.exp(-1.702 * v)),
}


def clip_limit(c, dtype):
    return float(encode(np.array([c]), dtype)[1][0])


def linear64(x, w, b):
    y = x @ w.T
    return y if b is None else y + b


# ---------------------------------------------------------------- runs

def run_tool(*args):
    return subprocess.run([TOOL, *args], capture_output=True, text=True)


class Case:
    def __init__(self, tmp, rng, layer, dtype, bias, clip, activation, prefix):
        self.name = f"{layer} {dtype} bias={bias} clip={clip} act={activation} prefix={prefix or '-'}"
        self.layer, self.dtype, self.tmp = layer, dtype, tmp
        tensors, self.args = {}, ["--layer", layer]
        key = (lambda k: f"{prefix}.{k}") if prefix else (lambda k: k)
        lead = tuple(rng.integers(1, 4, size=rng.integers(0, 3)))  # rank 1 to 3 inputs
        if layer == "linear":
            k, n = int(rng.integers(1, 300)), int(rng.integers(1, 300))
            w_raw, w = encode(rng.uniform(-1, 1, (n, k)), dtype)
            tensors[key("weight")] = (dtype, (n, k), w_raw)
            b = None
            if bias:
                b_raw, b = encode(rng.uniform(-1, 1, n), dtype)
                tensors[key("bias")] = (dtype, (n,), b_raw)
            if clip:
                lim = clip_limit(clip, dtype)
                w = np.clip(w, -lim, lim)
            x_dtype = "F32" if dtype == "F32" else dtype
            x_raw, x = encode(rng.uniform(-1, 1, lead + (k,)), x_dtype)
            self.expected = linear64(x.reshape(-1, k), w, b).reshape(lead + (n,))
        else:
            h, f = int(rng.integers(1, 200)), int(rng.integers(1, 200))
            ws, bs = {}, {}
            for proj, shape in (("gate_proj", (f, h)), ("up_proj", (f, h)), ("down_proj", (h, f))):
                raw, ws[proj] = encode(rng.uniform(-1, 1, shape), dtype)
                tensors[key(proj + ".weight")] = (dtype, shape, raw)
                bs[proj] = None
                if bias:
                    raw, bs[proj] = encode(rng.uniform(-1, 1, shape[0]), dtype)
                    tensors[key(proj + ".bias")] = (dtype, (shape[0],), raw)
                if clip:
                    lim = clip_limit(clip, dtype)
                    ws[proj] = np.clip(ws[proj], -lim, lim)
            x_dtype = "F32" if dtype == "F32" else dtype
            x_raw, x = encode(rng.uniform(-2, 2, lead + (h,)), x_dtype)
            x2 = x.reshape(-1, h)
            gate = linear64(x2, ws["gate_proj"], bs["gate_proj"])
            up = linear64(x2, ws["up_proj"], bs["up_proj"])
            hid = ACTIVATIONS[activation](gate) * up
            self.expected = linear64(hid, ws["down_proj"], bs["down_proj"]).reshape(lead + (h,))
            self.args += ["--activation", activation]
        self.tolerance = 1e-5 if dtype == "F32" else 1e-2
        self.weights = os.path.join(tmp, "w.safetensors")
        self.input = os.path.join(tmp, "x.safetensors")
        self.output = os.path.join(tmp, "y.safetensors")
        write_safetensors(self.weights, tensors)
        write_safetensors(self.input, {"x": (x_dtype, x.shape, x_raw)})
        self.args += ["--weights", self.weights, "--input", self.input, "--output", self.output]
        if prefix:
            self.args += ["--prefix", prefix]
        if clip:
            self.args += ["--clip-weight", str(clip)]

    def check(self):
        r = run_tool("run", *self.args)
        if r.returncode != 0:
            return False, f"exit {r.returncode}: {r.stderr.strip()}"
        y = read_f32(self.output, "y")
        if y.shape != self.expected.shape:
            return False, f"shape {y.shape}, expected {self.expected.shape}"
        if not np.all(np.isfinite(y)):
            return False, "non-finite output"
        norm = np.linalg.norm(self.expected)
        err = np.linalg.norm(y - self.expected) / (norm if norm > 0 else 1)
        return err <= self.tolerance, f"relative L2 {err:.3e} (limit {self.tolerance:g})"


# ---------------------------------------------------------------- quantised checkpoints

def scratch_files(tmp):
    """Fresh weights, input, output and config paths, so that cases built up front keep their own files."""
    scratch_files.count = getattr(scratch_files, "count", 0) + 1
    d = os.path.join(tmp, f"case{scratch_files.count}")
    os.makedirs(d)
    return tuple(os.path.join(d, f) for f in ("w.safetensors", "x.safetensors", "y.safetensors", "config.json"))

def pack_bits(values, bits, axis_len, width):
    """Little-endian bit streams of `bits`-wide values along axis 0 of `values` (axis_len, width)."""
    words = np.zeros((axis_len * bits // 32, width), dtype=np.uint64)
    for i in range(axis_len):
        bit = bits * i
        w, shift = divmod(bit, 32)
        v = values[i].astype(np.uint64)
        words[w] |= (v << np.uint64(shift)) & np.uint64(0xFFFFFFFF)
        if shift + bits > 32:
            words[w + 1] |= v >> np.uint64(32 - shift)
    return words.astype(np.uint32).view(np.int32)


class GptqCase:
    def __init__(self, tmp, rng, bits, group, v2, act_order, x_dtype, prefix):
        self.name = f"gptq {bits}b g{group} {'v2' if v2 else 'v1'}{' act-order' if act_order else ''} x:{x_dtype}"
        k = 256 if group != 64 else 192
        n = 96
        g = k if group == -1 else group
        groups = k // g
        maxq = (1 << bits) - 1
        q = rng.integers(0, maxq + 1, size=(k, n))
        # v2 stores the zero, 0 .. 2^bits - 1; v1 stores zero - 1, read back with no wrap: 1 .. 2^bits
        z = rng.integers(0, maxq + 1, size=(groups, n)) + (0 if v2 else 1)
        scales = rng.uniform(0.001, 0.05, size=(groups, n)).astype("<f2")
        g_idx = np.arange(k) // g
        if act_order:
            g_idx = g_idx[rng.permutation(k)]
        stored_z = z if v2 else z - 1
        tensors = {
            f"{prefix}.qweight": ("I32", (k * bits // 32, n), pack_bits(q, bits, k, n).astype("<i4").tobytes()),
            f"{prefix}.qzeros": ("I32", (groups, n * bits // 32),
                                 pack_bits(stored_z.T, bits, n, groups).T.copy().astype("<i4").tobytes()),
            f"{prefix}.scales": ("F16", (groups, n), scales.tobytes()),
        }
        if act_order or rng.integers(2):
            tensors[f"{prefix}.g_idx"] = ("I32", (k,), g_idx.astype("<i4").tobytes())
        b_raw, b = encode(rng.uniform(-1, 1, n), "F16")
        tensors[f"{prefix}.bias"] = ("F16", (n,), b_raw)
        w = (scales.astype(np.float64)[g_idx, :] * (q - z[g_idx, :])).T  # (n, k)
        x_raw, x = encode(rng.uniform(-1, 1, (3, k)), x_dtype)
        self.expected = linear64(x, w, b)
        self.tolerance = 1e-4 if x_dtype == "F32" else 1e-2
        self.weights, self.input, self.output, config = scratch_files(tmp)
        write_safetensors(self.weights, tensors)
        write_safetensors(self.input, {"x": (x_dtype, x.shape, x_raw)})
        with open(config, "w") as f:
            json.dump({"quantization_config": {"quant_method": "gptq", "bits": bits, "group_size": group,
                                               "desc_act": act_order, "sym": False,
                                               "checkpoint_format": "gptq_v2" if v2 else "gptq"}}, f)
        self.args = ["--layer", "gptq-linear", "--prefix", prefix, "--quant-config", config, "--weights", self.weights,
                     "--input", self.input, "--output", self.output]

    check = Case.check


def fp8_e4m3_decode(codes):
    c = codes.astype(np.int64)
    sign = np.where(c & 0x80, -1.0, 1.0)
    e, m = (c >> 3) & 0xF, c & 0x7
    value = np.where(e == 0, m / 8.0 * 2.0 ** -6, (1 + m / 8.0) * 2.0 ** (e - 7))
    return sign * value


def fp8_e4m3_round(v):
    """float64 values to the nearest e4m3fn value, ties to even, saturating at ±448."""
    v = np.clip(v, -448, 448)
    a = np.abs(v)
    e = np.floor(np.log2(np.where(a > 0, a, 1)))
    quantum = 2.0 ** (np.maximum(e, -6) - 3)
    return np.sign(v) * np.rint(a / quantum) * quantum


def quantise_x(x, scale):
    """x · (1/s) in f32, rounded to e4m3fn, times s: what the layer multiplies the weights by."""
    inv = np.where(scale == 0, np.float32(0), np.float32(1) / np.where(scale == 0, 1, scale).astype(np.float32))
    return fp8_e4m3_round((x.astype(np.float32) * inv.astype(np.float32)).astype(np.float64)) * scale.astype(np.float64)


class Fp8Case:
    def __init__(self, tmp, rng, scheme, prefix):
        self.name = f"fp8 {scheme}"
        m, k, n = 5, 300, 70
        codes = rng.integers(0, 256, size=(n, k)).astype(np.uint8)
        codes[(codes & 0x7F) == 0x7F] = 0x7E  # no NaN patterns
        wq = fp8_e4m3_decode(codes)
        x = rng.uniform(-3, 3, (m, k)).astype(np.float32)
        x[2] = 0  # an all-zero row: its dynamic scale is 0
        tensors = {f"{prefix}.weight": ("F8_E4M3", (n, k), codes.tobytes())}
        if scheme == "static":
            s_in = np.float32(np.abs(x).max() / 448 * 1.3)
            s_w = np.float32(0.01)
            tensors[f"{prefix}.weight_scale"] = ("F32", (), np.array(s_w, "<f4").tobytes())
            tensors[f"{prefix}.input_scale"] = ("F32", (), np.array(s_in, "<f4").tobytes())
            xs = quantise_x(x, np.full((m, 1), s_in, np.float32))
            w = wq * float(s_w)
            qc = {"quant_method": "fp8", "activation_scheme": "static"}
        elif scheme == "per-token":
            s_w = rng.uniform(0.001, 0.02, (n, 1)).astype(np.float32)
            tensors[f"{prefix}.weight_scale"] = ("F32", (n, 1), s_w.astype("<f4").tobytes())
            ub = np.float32(2.0)
            amax = np.abs(x).max(axis=1, keepdims=True).astype(np.float32)
            xs = quantise_x(x, (np.minimum(amax, ub) / np.float32(448)).astype(np.float32))
            w = wq * s_w.astype(np.float64)
            qc = {"quant_method": "fbgemm_fp8", "activation_scale_ub": float(ub)}
        else:  # block (bn, bk) weights, (1, bk) dynamic inputs, K not a multiple of bk
            bn, bk = 32, 128
            nb, kb = -(-n // bn), -(-k // bk)
            s_w = rng.uniform(0.001, 0.02, (nb, kb)).astype(np.float32)
            tensors[f"{prefix}.weight_scale_inv"] = ("F32", (nb, kb), s_w.astype("<f4").tobytes())
            xs = np.zeros((m, k))
            for j in range(kb):
                sl = slice(j * bk, min(k, (j + 1) * bk))
                amax = np.abs(x[:, sl]).max(axis=1, keepdims=True).astype(np.float32)
                xs[:, sl] = quantise_x(x[:, sl], (amax / np.float32(448)).astype(np.float32))
            w = wq * np.repeat(np.repeat(s_w.astype(np.float64), bn, 0), bk, 1)[:n, :k]
            qc = {"quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": [bn, bk]}
        self.expected = xs @ w.T
        self.tolerance = 3e-2
        self.weights, self.input, self.output, config = scratch_files(tmp)
        write_safetensors(self.weights, tensors)
        write_safetensors(self.input, {"x": ("F32", x.shape, x.astype("<f4").tobytes())})
        with open(config, "w") as f:
            json.dump(qc, f)
        self.args = ["--layer", "fp8-linear", "--prefix", prefix, "--quant-config", config, "--weights", self.weights,
                     "--input", self.input, "--output", self.output]

    check = Case.check


# ---------------------------------------------------------------- Hugging Face model folders

def write_model_folder(folder, tensors, shards, config, quantize_config=None):
    """A model folder as transformers saves it: config.json, and model.safetensors (shards == 1) or
    model-0000i-of-0000n.safetensors files split in key order, as max_shard_size splits them (one
    layer's tensors may straddle two files), with model.safetensors.index.json naming each key's file.
    quantize_config: AutoGPTQ's quantize_config.json, written too when given."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    if quantize_config is not None:
        with open(os.path.join(folder, "quantize_config.json"), "w") as f:
            json.dump(quantize_config, f, indent=2)
    meta = {"format": "pt"}
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors, meta)
        return
    sizes = {key: len(raw) for key, (_, _, raw) in tensors.items()}

    def split(limit):  # transformers' rule: a tensor that would take the shard past the limit starts the next
        parts, size = [[]], 0
        for key, n in sizes.items():
            if size + n > limit and parts[-1]:
                parts, size = parts + [[]], 0
            parts[-1].append(key)
            size += n
        return parts

    # the smallest max_shard_size that gives `shards` files: the most even split
    parts = next(p for p in map(split, range(8, sum(sizes.values()) + 8, 8)) if len(p) <= shards)
    assert len(parts) == shards, (shards, parts)
    weight_map = {}
    for i, part in enumerate(parts):
        name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(folder, name), {k: tensors[k] for k in part}, meta)
        weight_map.update({k: name for k in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(sizes.values())}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        f.write("\n")


LLAMA_CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
                "num_hidden_layers": 1, "transformers_version": "4.46.0"}


def gptq_sym_tensors(rng, prefix, k, n, bits, group):
    """A symmetric GPTQ v1 layer as AutoGPTQ/optimum pack it: zero 2^(bits-1) everywhere, stored as
    zero − 1; (tensors, float64 weight (n, k))."""
    groups = k // group
    maxq = (1 << bits) - 1
    q = rng.integers(0, maxq + 1, size=(k, n))
    z = np.full((groups, n), 1 << (bits - 1))
    scales = rng.uniform(0.001, 0.05, size=(groups, n)).astype("<f2")
    g_idx = np.arange(k) // group
    stored_z = z - 1
    tensors = {
        f"{prefix}.qweight": ("I32", (k * bits // 32, n), pack_bits(q, bits, k, n).astype("<i4").tobytes()),
        f"{prefix}.qzeros": ("I32", (groups, n * bits // 32),
                             pack_bits(stored_z.T, bits, n, groups).T.copy().astype("<i4").tobytes()),
        f"{prefix}.scales": ("F16", (groups, n), scales.tobytes()),
        f"{prefix}.g_idx": ("I32", (k,), g_idx.astype("<i4").tobytes()),
    }
    return tensors, (scales.astype(np.float64)[g_idx, :] * (q - z[g_idx, :])).T


def mlp64(x2, ws, activation="silu"):
    hid = ACTIVATIONS[activation](x2 @ ws["gate_proj"].T) * (x2 @ ws["up_proj"].T)
    return hid @ ws["down_proj"].T


class FolderCase:
    """One `run --weights FOLDER` against numpy; no --quant-config: the folder says it all."""

    def __init__(self, name, folder, layer, prefix, x, x_dtype, expected, tolerance, tmp):
        self.name, self.expected, self.tolerance = name, expected, tolerance
        _, self.input, self.output, _ = scratch_files(tmp)
        x_raw, _ = encode(x, x_dtype)
        write_safetensors(self.input, {"x": (x_dtype, x.shape, x_raw)})
        self.args = ["--layer", layer, "--prefix", prefix, "--weights", folder, "--input", self.input,
                     "--output", self.output]

    check = Case.check


def folder_cases(tmp, rng):
    cases = []
    # 1. dense bf16 MLP, two shards and an index
    h, f = 96, 160
    dense, ws = {}, {}
    dense["model.embed_tokens.weight"] = ("BF16", (50, h), encode(rng.uniform(-1, 1, (50, h)), "BF16")[0])
    for proj, shape in (("gate_proj", (f, h)), ("up_proj", (f, h)), ("down_proj", (h, f))):
        raw, ws[proj] = encode(rng.uniform(-1, 1, shape), "BF16")
        dense[f"model.layers.0.mlp.{proj}.weight"] = ("BF16", shape, raw)
    dense["model.norm.weight"] = ("BF16", (h,), encode(np.ones(h), "BF16")[0])
    folder = os.path.join(tmp, "hf-dense")
    write_model_folder(folder, dense, 2, dict(LLAMA_CONFIG, torch_dtype="bfloat16", hidden_size=h, intermediate_size=f))
    _, x = encode(rng.uniform(-2, 2, (2, 3, h)), "BF16")
    cases.append(FolderCase("folder dense bf16 mlp, 2 shards + index", folder, "mlp", "model.layers.0.mlp", x, "BF16",
                            mlp64(x.reshape(-1, h), ws).reshape(2, 3, h), 1e-2, tmp))

    # 2-5. GPTQ int4 g64 sym v1 MLP over 3 shards, a dense bf16 lm_head
    bits, group, h, f, vocab = 4, 64, 128, 192, 64
    gptq, wq = {}, {}
    for proj, (n, k) in (("gate_proj", (f, h)), ("up_proj", (f, h)), ("down_proj", (h, f))):
        t, wq[proj] = gptq_sym_tensors(rng, f"model.layers.0.mlp.{proj}", k, n, bits, group)
        gptq.update(t)
    lm_raw, lm = encode(rng.uniform(-1, 1, (vocab, h)), "BF16")
    gptq["lm_head.weight"] = ("BF16", (vocab, h), lm_raw)
    settings = {"bits": bits, "group_size": group, "desc_act": False, "sym": True}
    config = dict(LLAMA_CONFIG, torch_dtype="float16", hidden_size=h, intermediate_size=f,
                  quantization_config=dict(settings, quant_method="gptq", damp_percent=0.1, true_sequential=True,
                                           use_exllama=True, checkpoint_format="gptq", block_name_to_quantize="model.layers",
                                           modules_to_not_convert=["lm_head"]))
    folder_a = os.path.join(tmp, "hf-gptq-config")
    write_model_folder(folder_a, gptq, 3, config)
    folder_b = os.path.join(tmp, "hf-gptq-autogptq")
    plain = {k: v for k, v in config.items() if k != "quantization_config"}
    write_model_folder(folder_b, gptq, 2, plain, dict(settings, damp_percent=0.01, static_groups=False, true_sequential=True,
                                                       model_name_or_path=None, model_file_base_name="model"))
    name = f"gptq {bits}b g{group} sym v1"
    _, x = encode(rng.uniform(-1, 1, (4, h)), "F32")
    cases.append(FolderCase(f"folder {name} mlp, config.json quantization_config, 3 shards", folder_a, "mlp",
                            "model.layers.0.mlp", x, "F32", mlp64(x, wq), 1e-4, tmp))
    _, x = encode(rng.uniform(-1, 1, (4, h)), "F32")
    cases.append(FolderCase(f"folder {name} mlp, quantize_config.json only, 2 shards", folder_b, "mlp",
                            "model.layers.0.mlp", x, "F32", mlp64(x, wq), 1e-4, tmp))
    _, x = encode(rng.uniform(-1, 1, (3, f)), "F16")
    cases.append(FolderCase(f"folder {name} linear down_proj x:F16", folder_a, "linear", "model.layers.0.mlp.down_proj",
                            x, "F16", x @ wq["down_proj"].T, 1e-2, tmp))
    _, x = encode(rng.uniform(-1, 1, (3, h)), "BF16")
    cases.append(FolderCase("folder dense bf16 lm_head in the gptq folder", folder_a, "linear", "lm_head", x, "BF16",
                            x @ lm.T, 1e-2, tmp))

    # 6. FP8 e4m3, 128x128 block scales in weight_scale_inv, N and K not multiples of 128, one file
    m, n, k, bn, bk = 5, 200, 320, 128, 128
    prefix = "model.layers.0.self_attn.o_proj"
    codes = rng.integers(0, 256, size=(n, k)).astype(np.uint8)
    codes[(codes & 0x7F) == 0x7F] = 0x7E  # no NaN patterns
    nb, kb = -(-n // bn), -(-k // bk)
    s_w = rng.uniform(0.001, 0.02, (nb, kb)).astype(np.float32)
    x = rng.uniform(-3, 3, (m, k)).astype(np.float32)
    x[1, bk:2 * bk] = 0  # an all-zero block: its dynamic scale is 0
    x[3, :bk] *= 40  # a block of large values next to small ones
    xs = np.zeros((m, k))
    for j in range(kb):
        sl = slice(j * bk, min(k, (j + 1) * bk))
        amax = np.abs(x[:, sl]).max(axis=1, keepdims=True).astype(np.float32)
        xs[:, sl] = quantise_x(x[:, sl], (amax / np.float32(448)).astype(np.float32))
    w = fp8_e4m3_decode(codes) * np.repeat(np.repeat(s_w.astype(np.float64), bn, 0), bk, 1)[:n, :k]
    fp8 = {f"{prefix}.weight": ("F8_E4M3", (n, k), codes.tobytes()),
           f"{prefix}.weight_scale_inv": ("F32", (nb, kb), s_w.astype("<f4").tobytes())}
    folder = os.path.join(tmp, "hf-fp8-block")
    write_model_folder(folder, fp8, 1, dict(LLAMA_CONFIG, torch_dtype="bfloat16", quantization_config={
        "quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": [bn, bk]}))
    expected = from_bf16_bits(to_bf16_bits(xs @ w.T)).astype(np.float64)  # MAX's BF16 output, rounded once
    cases.append(FolderCase(f"folder fp8 e4m3 block {bn}x{bk} weight_scale_inv {n}x{k}, model.safetensors", folder,
                            "linear", prefix, x, "F32", expected, 3e-2, tmp))
    return cases


# ---------------------------------------------------------------- layouts as the tools write them

def split_bounds(size, n):
    """MAX's split: the first size mod n shards take one more."""
    base, extra = divmod(size, n)
    bounds, start = [], 0
    for i in range(n):
        end = start + base + (1 if i < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


def per_token(x, ub=None):
    """Dynamic per-token e4m3fn quantisation of x (m, k), float64 values xq·s."""
    amax = np.abs(x).max(axis=1, keepdims=True).astype(np.float32)
    if ub is not None:
        amax = np.minimum(amax, np.float32(ub))
    return quantise_x(x, (amax / np.float32(448)).astype(np.float32))


def bf16_rounded(y):
    return from_bf16_bits(to_bf16_bits(y)).astype(np.float64)


def tool_layout_cases(tmp, rng):
    """Checkpoints written by the tools' own modules and writers (torch, safetensors, transformers):
    layouts once refused, and FP8-dynamic layers sharded along their input features."""
    try:
        import torch
        from safetensors.torch import save_file
        from transformers import FineGrainedFP8Config, Phi3Config
        from transformers.integrations.fbgemm_fp8 import FbgemmFp8Linear
        from transformers.integrations.finegrained_fp8 import FP8Linear
        from transformers.models.phi3.modeling_phi3 import Phi3MLP
    except ImportError as e:
        print(f"skip  tool-layout cases: {e} (pip install torch transformers safetensors)")
        return []
    torch.manual_seed(int(rng.integers(1 << 31)))
    f64 = lambda t: t.detach().to(torch.float64).numpy()
    cases = []

    def folder(name, state, config):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        save_file({k: v.detach().contiguous() for k, v in state.items()}, os.path.join(d, "model.safetensors"),
                  metadata={"format": "pt"})
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2, default=str)
        return d

    def state_of(module, prefix):
        return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}

    o_proj = "model.layers.0.self_attn.o_proj"
    m = 5

    # compressed-tensors (llm-compressor) FP8 static for an fp16 model: channel weight scales and a
    # (1,) input scale, both F16.
    n, k = 96, 160
    w = torch.randn(n, k, dtype=torch.float16) / math.sqrt(k)
    s_w = (w.abs().amax(dim=1, keepdim=True).float() / 448).half()
    q = (w.float() / s_w.float()).clamp(-448, 448).to(torch.float8_e4m3fn)
    x = rng.uniform(-3, 3, (m, k)).astype(np.float32)
    s_in = torch.tensor([np.abs(x).max() / 448 * 1.2], dtype=torch.float16)
    state = {f"{o_proj}.weight": q, f"{o_proj}.weight_scale": s_w, f"{o_proj}.input_scale": s_in}
    scheme = {"num_bits": 8, "type": "float", "symmetric": True, "dynamic": False, "group_size": None,
              "block_structure": None, "actorder": None, "observer": "minmax", "observer_kwargs": {}}
    qc = {"quant_method": "compressed-tensors", "format": "float-quantized", "quantization_status": "compressed",
          "config_groups": {"group_0": {"targets": ["Linear"], "weights": dict(scheme, strategy="channel"),
                                        "input_activations": dict(scheme, strategy="tensor"), "output_activations": None}},
          "ignore": ["lm_head"], "kv_cache_scheme": None, "global_compression_ratio": None}
    d = folder("ct-fp8-f16", state, dict(LLAMA_CONFIG, torch_dtype="float16", quantization_config=qc))
    xs = quantise_x(x, np.full((m, 1), f64(s_in)[0], np.float32))
    cases.append(FolderCase("tool compressed-tensors fp8 static, F16 weight_scale (N,1) and input_scale (1,)", d,
                            "linear", o_proj, x, "F32", bf16_rounded(xs @ (f64(q) * f64(s_w)).T), 1e-3, tmp))

    # transformers FineGrainedFP8, activation_scheme static: FP8Linear's own parameters, 'activation_scale'.
    n, k = 200, 320
    layer = FP8Linear(k, n, block_size=(128, 128), activation_scheme="static")
    with torch.no_grad():
        layer.weight.copy_((torch.randn(n, k) * 60).clamp(-448, 448).to(torch.float8_e4m3fn))
        layer.weight_scale_inv.copy_(torch.rand(2, 3) * 0.01 + 0.001)
        x = rng.uniform(-3, 3, (m, k)).astype(np.float32)
        layer.activation_scale.fill_(float(np.abs(x).max() / 448 * 1.1))
    qc = FineGrainedFP8Config(activation_scheme="static", weight_block_size=[128, 128]).to_dict()
    d = folder("fg-fp8-static", state_of(layer, o_proj), dict(LLAMA_CONFIG, torch_dtype="bfloat16", quantization_config=qc))
    scale = np.repeat(np.repeat(f64(layer.weight_scale_inv), 128, 0), 128, 1)[:n, :k]
    xs = quantise_x(x, np.full((m, 1), np.float32(layer.activation_scale.item()), np.float32))
    cases.append(FolderCase("tool transformers FineGrainedFP8 static, activation_scale, 128x128 weight_scale_inv", d,
                            "linear", o_proj, x, "F32", bf16_rounded(xs @ (f64(layer.weight) * scale).T), 1e-3, tmp))

    # AutoFP8 dynamic: per_tensor_quantize's scalar weight_scale, no weight_block_size; x scaled per tensor.
    # Then the same config over a 96x64 weight whose one scale is written (1, 1): per tensor too.
    for (n, k), shape in (((200, 320), ()), ((96, 64), (1, 1))):
        w = torch.randn(n, k, dtype=torch.bfloat16) / math.sqrt(k)
        amax = w.float().abs().max().clamp(min=1e-12)
        inv = 448.0 / amax
        q = (w.float() * inv).clamp(-448, 448).to(torch.float8_e4m3fn)
        s_w = inv.float().reciprocal().reshape(shape)
        x = rng.uniform(-3, 3, (m, k)).astype(np.float32)
        d = folder(f"autofp8-{n}x{k}", {f"{o_proj}.weight": q, f"{o_proj}.weight_scale": s_w},
                   dict(LLAMA_CONFIG, torch_dtype="bfloat16",
                        quantization_config={"quant_method": "fp8", "activation_scheme": "dynamic"}))
        xs = quantise_x(x, np.full((m, 1), np.float32(np.abs(x).max()) / np.float32(448), np.float32))
        cases.append(FolderCase(f"tool AutoFP8 dynamic {n}x{k}, weight_scale {list(shape)}: per tensor", d, "linear",
                                o_proj, x, "F32", bf16_rounded(xs @ (f64(q) * f64(s_w).reshape(())).T), 1e-3, tmp))

    # fbgemm with e5m2 weights (FbgemmFp8Linear's dtype): x is still quantised to e4m3fn per token.
    n, k = 64, 192
    layer = FbgemmFp8Linear(k, n, True, dtype=torch.float8_e5m2)
    with torch.no_grad():
        layer.weight.copy_((torch.randn(n, k) * 1000).clamp(-57344, 57344).to(torch.float8_e5m2))
        layer.weight_scale.copy_(torch.rand(n, 1) * 1e-4 + 1e-5)
        layer.bias.copy_(torch.randn(n))
    x = rng.uniform(-3, 3, (m, k)).astype(np.float32)
    qc = {"quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0, "modules_to_not_convert": ["lm_head"]}
    d = folder("fbgemm-e5m2", state_of(layer, o_proj), dict(LLAMA_CONFIG, torch_dtype="bfloat16", quantization_config=qc))
    expected = per_token(x, 1200.0) @ (f64(layer.weight) * f64(layer.weight_scale)).T + f64(layer.bias)
    cases.append(FolderCase("tool fbgemm e5m2 weights, dynamic x quantised to e4m3fn", d, "linear", o_proj, x, "F32",
                            bf16_rounded(expected), 1e-3, tmp))

    # GPTQ v1 as AutoGPTQ packs it, in_dim 576 in groups of 128 (SmolLM-135M): ceil(576/128) = 5 groups, the
    # last of 64 channels; some zeros stored 15, read as 16. Plain and act-order.
    bits, k, n, group = 4, 576, 64, 128
    for act_order in (False, True):
        groups = -(-k // group)
        q = rng.integers(0, 16, size=(k, n))
        z = rng.integers(1, 17, size=(groups, n))
        z[rng.random((groups, n)) < 0.2] = 16
        scales = torch.from_numpy(rng.uniform(0.001, 0.05, size=(groups, n))).half()
        g_idx = np.arange(k) // group
        if act_order:
            g_idx = g_idx[rng.permutation(k)]
        prefix = "model.layers.0.mlp.down_proj"
        state = {f"{prefix}.qweight": torch.from_numpy(pack_bits(q, bits, k, n).copy()),
                 f"{prefix}.qzeros": torch.from_numpy(pack_bits((z - 1).T, bits, n, groups).T.copy()),
                 f"{prefix}.scales": scales, f"{prefix}.g_idx": torch.from_numpy(g_idx.astype(np.int32))}
        qc = {"quant_method": "gptq", "bits": bits, "group_size": group, "desc_act": act_order, "sym": False,
              "damp_percent": 0.01, "true_sequential": True, "checkpoint_format": "gptq"}
        d = folder(f"gptq-partial-{act_order}", state, dict(LLAMA_CONFIG, torch_dtype="float16", quantization_config=qc))
        w = (f64(scales)[g_idx, :] * (q - z[g_idx, :])).T
        x = rng.uniform(-1, 1, (3, k)).astype(np.float32)
        cases.append(FolderCase(f"tool AutoGPTQ v1 4b in 576 g128 (last group 64){' act-order' if act_order else ''}, "
                                f"zeros stored 15 = 16", d, "linear", prefix, x, "F32", x.astype(np.float64) @ w.T, 1e-4, tmp))

    # Phi-3: transformers' Phi3MLP, one gate_up_proj (gate rows, then up), bf16 as the model ships.
    h, f = 96, 160
    mlp = Phi3MLP(Phi3Config(hidden_size=h, intermediate_size=f, hidden_act="silu")).to(torch.bfloat16)
    d = folder("phi3", state_of(mlp, "model.layers.0.mlp"),
               {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": h, "intermediate_size": f,
                "torch_dtype": "bfloat16"})
    x = rng.uniform(-2, 2, (4, h)).astype(np.float32)
    gu, down = f64(mlp.gate_up_proj.weight), f64(mlp.down_proj.weight)
    expected = mlp64(x.astype(np.float64), {"gate_proj": gu[:f], "up_proj": gu[f:], "down_proj": down})
    with torch.no_grad():  # the module itself, in float64, agrees with that reading of the fused weight
        assert np.allclose(mlp.double()(torch.from_numpy(x).double()).numpy(), expected, rtol=1e-9, atol=1e-12)
    cases.append(FolderCase("tool transformers Phi3MLP, fused gate_up_proj, --layer mlp", d, "mlp", "model.layers.0.mlp",
                            x, "F32", expected, 1e-4, tmp))
    tp = FolderCase("tool transformers Phi3MLP, fused gate_up_proj, --tensor-parallel over cpu:0,cpu:1", d, "mlp",
                    "model.layers.0.mlp", x, "F32", expected, 1e-4, tmp)
    tp.args += ["--tensor-parallel", "--device", "cpu:0,cpu:1"]
    cases.append(tp)

    # fbgemm FP8 sharded along input features over cpu:0..2: each shard scales its own slice of x per token.
    hidden, ffn, devices = 256, 384, 3
    mods = {p: FbgemmFp8Linear(i, o, True) for p, i, o in (("gate_proj", hidden, ffn), ("up_proj", hidden, ffn),
                                                           ("down_proj", ffn, hidden))}
    state = {}
    for p, lin in mods.items():
        with torch.no_grad():
            lin.weight.copy_((torch.randn(lin.out_features, lin.in_features) * 100).clamp(-448, 448).to(torch.float8_e4m3fn))
            lin.weight_scale.copy_(torch.rand(lin.out_features, 1) * 1e-3 + 1e-4)
            lin.bias.copy_(torch.randn(lin.out_features))
        state.update(state_of(lin, f"model.layers.0.mlp.{p}"))
    d = folder("fbgemm-mlp", state, dict(LLAMA_CONFIG, torch_dtype="bfloat16", quantization_config={
        "quant_method": "fbgemm_fp8", "activation_scale_ub": 1200.0, "modules_to_not_convert": ["lm_head"]}))
    wd = {p: f64(l.weight) * f64(l.weight_scale) for p, l in mods.items()}
    bd = {p: f64(l.bias) for p, l in mods.items()}
    x = rng.uniform(-1, 1, (m, ffn)).astype(np.float32)
    y = bd["down_proj"] + sum(per_token(x[:, a:b], 1200.0) @ wd["down_proj"][:, a:b].T for a, b in split_bounds(ffn, devices))
    rp = FolderCase("tool fbgemm fp8 row-parallel-linear over cpu:0,cpu:1,cpu:2, each shard's own per-token scales", d,
                    "linear", "model.layers.0.mlp.down_proj", x, "F32", y, 1e-4, tmp)
    rp.args[1] = "row-parallel-linear"
    rp.args += ["--device", "cpu:0,cpu:1,cpu:2"]
    cases.append(rp)
    x = rng.uniform(-1, 1, (m, hidden)).astype(np.float32)
    xq = per_token(x, 1200.0)
    y = bd["down_proj"].copy()
    for a, b in split_bounds(ffn, devices):
        g = xq @ wd["gate_proj"][a:b].T + bd["gate_proj"][a:b]
        u = xq @ wd["up_proj"][a:b].T + bd["up_proj"][a:b]
        hid = (ACTIVATIONS["silu"](g) * u).astype(np.float32)  # f32, as the kernels hold it
        y = y + per_token(hid, 1200.0) @ wd["down_proj"][:, a:b].T
    tpm = FolderCase("tool fbgemm fp8 mlp --tensor-parallel over cpu:0,cpu:1,cpu:2, each down shard's own scales", d,
                     "mlp", "model.layers.0.mlp", x, "F32", y, 1e-3, tmp)
    tpm.args += ["--tensor-parallel", "--device", "cpu:0,cpu:1,cpu:2"]
    cases.append(tpm)
    return cases

# ---------------------------------------------------------------- weight-only formats, as their tools write them

AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # AutoAWQ's order_map: output 8j + AWQ_ORDER[i] sits at bits 4i
AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7]  # vLLM's and AutoAWQ's unpacking order


def awq_unpack(packed):
    """AutoAWQ's dequantize_gemm unpacking, in numpy: shift out the nibbles, then undo the interleave."""
    p = packed.astype(np.int64) & 0xFFFFFFFF
    nibbles = np.stack([(p >> (4 * i)) & 0xF for i in range(8)], axis=-1).reshape(p.shape[0], -1)
    order = (np.arange(nibbles.shape[1]).reshape(-1, 8)[:, AWQ_REVERSE_ORDER]).reshape(-1)
    return nibbles[:, order]


def ct_unpack(packed, bits, length, dim):
    """compressed-tensors' unpack_from_int32 in numpy: values along `dim`, padding cut, offset removed."""
    f, mask = 32 // bits, (1 << bits) - 1
    p = packed.astype(np.int64) & 0xFFFFFFFF
    parts = np.stack([(p >> (bits * i)) & mask for i in range(f)], axis=dim + 1)
    if dim == 1:
        values = parts.reshape(p.shape[0], -1)[:, :length]
    else:
        values = parts.reshape(-1, p.shape[1])[:length, :]  # (words, f, cols): row f·word + i
    return values - (1 << (bits - 1))


def weight_only_cases(tmp, rng):
    """AWQ GEMM as AutoAWQ's WQLinear_GEMM.from_linear packs it; compressed-tensors pack-quantized (W4A16, W8A16)
    as its pack_to_int32 packs it; compressed-tensors FP8 W8A16; a bf16 model quantised to fp8 by `--quantize`.
    Each written with torch and safetensors into a model folder with the tool's config.json, read back here
    with numpy independently of how it was written."""
    try:
        import torch
        from safetensors.torch import save_file
    except ImportError as e:
        print(f"skip  weight-only format cases: {e} (pip install torch safetensors)")
        return []
    torch.manual_seed(int(rng.integers(1 << 31)))
    f64 = lambda t: t.detach().to(torch.float64).numpy()
    cases = []

    def folder(name, state, config):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        save_file({k: v.detach().contiguous() for k, v in state.items()}, os.path.join(d, "model.safetensors"),
                  metadata={"format": "pt"})
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        return d

    # AWQ: AutoAWQ's zero-point quantiser per group (scales (max-min)/15, zeros -round(min/s)), then from_linear:
    # scales .half(), intweight round((w + z·s)/s), packed with order_map along the outputs; qzeros likewise.
    def awq_layer(prefix, k, n, group, bias):
        w = torch.randn(n, k) / math.sqrt(k)
        g = w.reshape(n, k // group, group)
        lo, hi = g.amin(dim=2), g.amax(dim=2)
        scales = ((hi - lo).clamp(min=1e-5) / 15)
        zeros = (-torch.round(lo / scales)).clamp(0, 15)
        scales_h = scales.t().contiguous().half()  # (in/group, out)
        zeros_t = zeros.t().contiguous().to(torch.int32)
        rep = lambda t: t.repeat_interleave(group, dim=0)  # (in, out)
        intweight = torch.round((w.t() + rep(zeros_t.float() * scales.t())) / rep(scales_h.float())).clamp(0, 15).to(torch.int32)
        qweight = torch.zeros(k, n // 8, dtype=torch.int32)
        qzeros = torch.zeros(k // group, n // 8, dtype=torch.int32)
        for col in range(n // 8):
            for i in range(8):
                qweight[:, col] |= intweight[:, col * 8 + AWQ_ORDER[i]] << (i * 4)
                qzeros[:, col] |= zeros_t[:, col * 8 + AWQ_ORDER[i]] << (i * 4)
        state = {f"{prefix}.qweight": qweight, f"{prefix}.qzeros": qzeros, f"{prefix}.scales": scales_h}
        b = None
        if bias:
            b = torch.randn(n).half()
            state[f"{prefix}.bias"] = b
        q, z = awq_unpack(qweight.numpy()), awq_unpack(qzeros.numpy())
        wd = ((q - np.repeat(z, group, axis=0)) * np.repeat(f64(scales_h), group, axis=0)).T  # (q - z)·s, no +1
        return state, wd, (None if b is None else f64(b))

    awq_config = lambda group: dict(LLAMA_CONFIG, torch_dtype="float16", quantization_config={
        "quant_method": "awq", "bits": 4, "group_size": group, "zero_point": True, "version": "gemm",
        "modules_to_not_convert": None})
    h, ff = 256, 384
    state, ws, bs = {}, {}, {}
    for proj, (k, n) in (("gate_proj", (h, ff)), ("up_proj", (h, ff)), ("down_proj", (ff, h))):
        s, ws[proj], bs[proj] = awq_layer(f"model.layers.0.mlp.{proj}", k, n, 128, proj == "down_proj")
        state.update(s)
    d = folder("awq-g128", state, awq_config(128))
    x = rng.uniform(-1, 1, (3, ff)).astype(np.float32)
    cases.append(FolderCase("tool AutoAWQ GEMM 4b g128 linear (down_proj, F16 bias)", d, "linear",
                            "model.layers.0.mlp.down_proj", x, "F32", linear64(x.astype(np.float64), ws["down_proj"],
                                                                              bs["down_proj"]), 1e-4, tmp))
    x = rng.uniform(-1, 1, (2, 2, h)).astype(np.float32)
    x2 = x.reshape(-1, h).astype(np.float64)
    expected = linear64(ACTIVATIONS["silu"](x2 @ ws["gate_proj"].T) * (x2 @ ws["up_proj"].T), ws["down_proj"], bs["down_proj"])
    cases.append(FolderCase("tool AutoAWQ GEMM 4b g128 mlp", d, "mlp", "model.layers.0.mlp", x, "F32",
                            expected.reshape(2, 2, h), 1e-4, tmp))
    tp = FolderCase("tool AutoAWQ GEMM 4b g128 mlp --tensor-parallel over cpu:0,cpu:1", d, "mlp", "model.layers.0.mlp",
                    x, "F32", expected.reshape(2, 2, h), 1e-4, tmp)
    tp.args += ["--tensor-parallel", "--device", "cpu:0,cpu:1"]
    cases.append(tp)
    s, wd, _ = awq_layer("model.layers.0.self_attn.o_proj", 96, 40, 32, False)
    d = folder("awq-g32", s, awq_config(32))
    x = rng.uniform(-1, 1, (5, 96)).astype(np.float32)
    cases.append(FolderCase("tool AutoAWQ GEMM 4b g32 96 -> 40, x:BF16", d, "linear", "model.layers.0.self_attn.o_proj",
                            x, "BF16", encode(x, "BF16")[1] @ wd.T, 1e-4, tmp))

    # compressed-tensors pack-quantized: compressed-tensors' quantize (round(w/s) + zp, clamped to the signed
    # range), pack_to_int32 (offset by 2^(bits-1), zero-padded, shift-summed), weight_shape torch.tensor(shape).
    def pack_to_int32(value, bits, packed_dim=1):
        value = (value + (1 << (bits - 1))).to(torch.uint8)
        if packed_dim == 0:
            value = value.t()
        rows, cols = value.shape
        f = 32 // bits
        padded = -(-cols // f) * f
        value = torch.nn.functional.pad(value, (0, padded - cols)).view(rows, padded // f, f).to(torch.int32)
        packed = (value << (torch.arange(f, dtype=torch.int32) * bits)).sum(dim=2, dtype=torch.int32)
        return packed.t().contiguous() if packed_dim == 0 else packed

    def ct_layer(prefix, k, n, bits, group, symmetric, act_order, dtype):
        w = torch.randn(n, k, dtype=dtype) / math.sqrt(k)
        size = k if group is None else group
        groups = -(-k // size)
        qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        g_idx = torch.arange(k) // size
        if act_order:
            g_idx = g_idx[torch.randperm(k)]
        scale = torch.zeros(n, groups)
        zp = torch.zeros(n, groups)
        for gi in range(groups):
            cols = w.float()[:, g_idx == gi]
            lo, hi = cols.amin(dim=1).clamp(max=0), cols.amax(dim=1).clamp(min=0)
            if symmetric:
                scale[:, gi] = torch.maximum(-lo, hi) / ((qmax - qmin) / 2)
            else:
                scale[:, gi] = (hi - lo) / (qmax - qmin)
                zp[:, gi] = (qmin - torch.round(lo / scale[:, gi])).clamp(qmin, qmax)
        scale = scale.clamp(min=1e-8).to(dtype)
        q = torch.clamp(torch.round(w.float() / scale.float()[:, g_idx]) + zp[:, g_idx], qmin, qmax).to(torch.int8)
        state = {f"{prefix}.weight_packed": pack_to_int32(q, bits), f"{prefix}.weight_scale": scale,
                 f"{prefix}.weight_shape": torch.tensor(w.shape)}
        if not symmetric:
            state[f"{prefix}.weight_zero_point"] = pack_to_int32(zp.to(torch.int8), bits, packed_dim=0)
        if act_order:
            state[f"{prefix}.weight_g_idx"] = g_idx.to(torch.int32)
        qd = ct_unpack(state[f"{prefix}.weight_packed"].numpy(), bits, k, 1)
        zd = ct_unpack(state[f"{prefix}.weight_zero_point"].numpy(), bits, n, 0) if not symmetric else np.zeros((n, groups))
        gi = g_idx.numpy()
        return state, f64(scale)[:, gi] * (qd - zd[:, gi])

    def ct_config(bits, group, symmetric, act_order):
        weights = {"num_bits": bits, "type": "int", "symmetric": symmetric, "strategy": "channel" if group is None else "group",
                   "group_size": group, "dynamic": False, "actorder": "group" if act_order else None, "observer": "minmax",
                   "block_structure": None, "observer_kwargs": {}}
        return dict(LLAMA_CONFIG, torch_dtype="bfloat16", quantization_config={
            "quant_method": "compressed-tensors", "format": "pack-quantized", "quantization_status": "compressed",
            "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights, "input_activations": None,
                                          "output_activations": None, "format": "pack-quantized"}},
            "ignore": ["lm_head"], "kv_cache_scheme": None, "global_compression_ratio": None})

    o_proj = "model.layers.0.self_attn.o_proj"
    for bits, group, symmetric, act_order, (k, n) in ((4, 128, True, False, (256, 96)), (4, 64, False, False, (200, 72)),
                                                      (4, 32, False, True, (128, 40)), (8, None, True, False, (129, 33)),
                                                      (8, 32, False, False, (96, 17))):
        s, wd = ct_layer(o_proj, k, n, bits, group, symmetric, act_order, torch.bfloat16)
        d = folder(f"ct-w{bits}-{group}-{symmetric}-{act_order}", s, ct_config(bits, group, symmetric, act_order))
        x = rng.uniform(-1, 1, (4, k)).astype(np.float32)
        name = (f"tool compressed-tensors pack-quantized W{bits}A16 {'channel' if group is None else f'g{group}'} "
                f"{'sym' if symmetric else 'asym (packed zero points)'}{' actorder g_idx' if act_order else ''} {k} -> {n}")
        cases.append(FolderCase(name, d, "linear", o_proj, x, "F32", x.astype(np.float64) @ wd.T, 1e-4, tmp))
    h, ff = 128, 160
    state, ws = {}, {}
    for proj, (k, n) in (("gate_proj", (h, ff)), ("up_proj", (h, ff)), ("down_proj", (ff, h))):
        s, ws[proj] = ct_layer(f"model.layers.0.mlp.{proj}", k, n, 4, 32, False, False, torch.bfloat16)
        state.update(s)
    d = folder("ct-w4a16-mlp", state, ct_config(4, 32, False, False))
    x = rng.uniform(-1, 1, (3, h)).astype(np.float32)
    cases.append(FolderCase("tool compressed-tensors pack-quantized W4A16 g32 asym mlp", d, "mlp", "model.layers.0.mlp",
                            x, "F32", mlp64(x.astype(np.float64), ws), 1e-4, tmp))

    # compressed-tensors FP8 W8A16: float-quantized channel-scaled weights, input_activations null: x not quantised.
    n, k = 64, 192
    w = torch.randn(n, k, dtype=torch.bfloat16) / math.sqrt(k)
    s_w = (w.float().abs().amax(dim=1, keepdim=True) / 448).to(torch.bfloat16)
    q = (w.float() / s_w.float()).clamp(-448, 448).to(torch.float8_e4m3fn)
    scheme = {"num_bits": 8, "type": "float", "symmetric": True, "dynamic": False, "group_size": None, "strategy": "channel",
              "block_structure": None, "actorder": None, "observer": "minmax", "observer_kwargs": {}}
    d = folder("ct-fp8-w8a16", {f"{o_proj}.weight": q, f"{o_proj}.weight_scale": s_w}, dict(
        LLAMA_CONFIG, torch_dtype="bfloat16", quantization_config={
            "quant_method": "compressed-tensors", "format": "float-quantized", "quantization_status": "compressed",
            "config_groups": {"group_0": {"targets": ["Linear"], "weights": scheme, "input_activations": None,
                                          "output_activations": None}}, "ignore": ["lm_head"]}))
    x = rng.uniform(-3, 3, (5, k)).astype(np.float32)
    cases.append(FolderCase("tool compressed-tensors FP8 W8A16 channel: x not quantised", d, "linear", o_proj, x, "F32",
                            bf16_rounded(x.astype(np.float64) @ (f64(q) * f64(s_w)).T), 1e-3, tmp))

    # --quantize fp8 on a bf16 model: vLLM's scaled_fp8_quant per weight (gate and up as one, its merged
    # gate_up_proj), x per token (vLLM with CUTLASS) or per tensor (fp8-per-tensor); output in bf16.
    def fp8_quant(*weights):
        amax = np.float32(max(float(np.abs(w).max()) for w in weights))
        scale = np.float32(amax / np.float32(448))
        inv = np.float32(1) / scale
        return [f64(torch.from_numpy((w.astype(np.float32) * inv).clip(-448, 448)).to(torch.float8_e4m3fn)) * float(scale)
                for w in weights]

    def per_tensor(x):
        return quantise_x(x, np.full((x.shape[0], 1), np.float32(np.abs(x).max()) / np.float32(448), np.float32))

    h, ff = 96, 160
    dense, wd = {}, {}
    for proj, shape in (("gate_proj", (ff, h)), ("up_proj", (ff, h)), ("down_proj", (h, ff))):
        t = (torch.randn(*shape) / math.sqrt(shape[1])).to(torch.bfloat16)
        dense[f"model.layers.0.mlp.{proj}.weight"] = t
        wd[proj] = f64(t)
    d = folder("online-fp8-bf16", dense, dict(LLAMA_CONFIG, torch_dtype="bfloat16", hidden_size=h, intermediate_size=ff))
    gate, up = fp8_quant(wd["gate_proj"], wd["up_proj"])
    (down,) = fp8_quant(wd["down_proj"])
    for mode, xq in (("fp8", per_token), ("fp8-per-tensor", per_tensor)):
        x = rng.uniform(-1, 1, (4, ff)).astype(np.float32)
        c = FolderCase(f"--quantize {mode}: bf16 down_proj quantised at load", d, "linear", "model.layers.0.mlp.down_proj", x,
                       "F32", bf16_rounded(xq(x) @ down.T), 1e-2, tmp)
        c.args += ["--quantize", mode]
        cases.append(c)
        x = rng.uniform(-1, 1, (3, h)).astype(np.float32)
        xs = xq(x)
        hid = (ACTIVATIONS["silu"](bf16_rounded(xs @ gate.T)) * bf16_rounded(xs @ up.T)).astype(np.float32)
        c = FolderCase(f"--quantize {mode}: bf16 mlp, gate and up sharing one scale", d, "mlp", "model.layers.0.mlp", x,
                       "F32", bf16_rounded(xq(hid) @ down.T), 1e-2, tmp)
        c.args += ["--quantize", mode]
        cases.append(c)
    return cases


class ErrorCase:
    """A run that must fail with one line naming the problem."""

    def __init__(self, name, args, fragment):
        self.name, self.args, self.fragment = name, args, fragment

    def check(self):
        r = run_tool(*self.args)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        ok = r.returncode != 0 and len(lines) == 1 and self.fragment in lines[0] and "Exception" not in lines[0]
        return ok, f"exit {r.returncode}: {' | '.join(lines)}"


def weight_only_bad_cases(tmp, rng):
    """Checkpoints of the weight-only formats that must be refused, each naming its tensor or setting."""
    try:
        import torch
        from safetensors.torch import save_file
    except ImportError:
        return []
    cases = []
    _, xf, yf, _ = scratch_files(tmp)
    write_safetensors(xf, {"x": ("F32", (2, 64), encode(np.zeros((2, 64)), "F32")[0])})

    def case(name, state, qc, fragment, extra=()):
        d = os.path.join(tmp, "bad-" + name.replace(" ", "-"))
        os.makedirs(d)
        save_file(state, os.path.join(d, "model.safetensors"))
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(dict(LLAMA_CONFIG, **({"quantization_config": qc} if qc else {})), f)
        cases.append(ErrorCase("bad weight-only checkpoint, " + name, ["run", "--layer", "linear", "--prefix", "p",
                                                                     "--weights", d, "--input", xf, "--output", yf, *extra],
                               fragment))

    awq = {"p.qweight": torch.zeros(64, 2, dtype=torch.int32), "p.qzeros": torch.zeros(2, 2, dtype=torch.int32),
           "p.scales": torch.zeros(2, 16, dtype=torch.float16)}
    case("awq gemv version", awq, {"quant_method": "awq", "bits": 4, "group_size": 32, "version": "gemv"}, "version is 'gemv'")
    case("awq qzeros shape", dict(awq, **{"p.qzeros": torch.zeros(2, 16, dtype=torch.int32)}),
         {"quant_method": "awq", "bits": 4, "group_size": 32, "version": "gemm"}, "'p.qzeros' has shape (2, 16), expected (2, 2)")
    ct = {"p.weight_packed": torch.zeros(16, 8, dtype=torch.int32), "p.weight_scale": torch.zeros(16, 2, dtype=torch.bfloat16),
          "p.weight_shape": torch.tensor([16, 70])}
    ct_qc = {"quant_method": "compressed-tensors", "format": "pack-quantized", "config_groups": {"group_0": {
        "weights": {"num_bits": 4, "type": "int", "symmetric": True, "strategy": "group", "group_size": 32}}}}
    case("pack-quantized weight_shape", ct, ct_qc, "'p.weight_packed' has shape (16, 8), expected (16, 9)")
    case("quantize a quantised checkpoint", awq, {"quant_method": "awq", "bits": 4, "group_size": 32},
         "takes unquantised weights", ("--quantize", "fp8"))
    return cases


# ---------------------------------------------------------------- INT8 W8A8, in compressed-tensors' layout

def vllm_int8_inputs(x, dynamic, symmetric, s=None, z=0):
    """x (m, k) quantised to int8 as vLLM's scaled_int8_quant does it, in f32, ties to even; float64 (xq - z)·s."""
    x = np.asarray(x, dtype=np.float32)
    if not dynamic:
        s = np.float32(s)
        if symmetric:
            q = np.rint(x / s)
        else:
            q = np.rint(x * (np.float32(1) / s)) + z
        return (np.clip(q, -128, 127) - z) * np.float64(s)
    out = np.zeros(x.shape)
    for i, row in enumerate(x):
        lo, hi = row.min(), row.max()
        span = (hi - lo) / np.float32(255)
        if not symmetric and span > 0 and np.isfinite(span):
            zi = float(np.rint(np.float32(-128) - lo / span))
            q = np.clip(np.rint(row * (np.float32(1) / span)) + zi, -128, 127)
            out[i] = (q - zi) * np.float64(span)
        else:  # symmetric, or an asymmetric row of span 0: max|x| / 127
            amax = np.abs(row).max()
            inv = np.float32(0) if amax == 0 else np.float32(127) / amax
            out[i] = np.clip(np.rint(row * inv), -128, 127) * np.float64(amax / np.float32(127))
    return out


def int8_cases(tmp, rng):
    """W8A8 INT8 checkpoints as llm-compressor saves them through compressed-tensors (written here with
    torch and safetensors: its minmax observer's scales in the model's dtype, torch.round's codes, the
    config it writes), run from their folders and compared with vLLM's quantisation of x in numpy."""
    try:
        import torch
        from safetensors.torch import save_file
    except ImportError as e:
        print(f"skip  int8 cases: {e} (pip install torch safetensors)")
        return []
    torch.manual_seed(int(rng.integers(1 << 31)))
    f64 = lambda t: t.detach().to(torch.float64).numpy()
    cases = []

    def quantise_weight(w, strategy):
        """compressed-tensors' symmetric int8 weights: scale max|w| / 127.5 (its range / 2), clamped to eps, in w's dtype."""
        amax = w.abs().amax(dim=1, keepdim=True) if strategy == "channel" else w.abs().amax().reshape(1)
        scale = torch.clamp(amax / 127.5, min=torch.finfo(torch.float32).eps).to(w.dtype)
        return torch.round(torch.clamp(w / scale, -128, 127)).to(torch.int8), scale

    def observe_input(x, dtype, symmetric):
        """The minmax observer on calibration inputs: a (1,) scale in the model's dtype and an int8 zero point."""
        lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
        if symmetric:
            return torch.tensor([max(-lo, hi) / 127.5], dtype=dtype), torch.zeros(1, dtype=torch.int8)
        scale = torch.tensor([(hi - lo) / 255], dtype=dtype)
        zero = torch.clamp(torch.round(-128 - lo / scale.float()), -128, 127).to(torch.int8)
        return scale, zero

    def config(weights, inputs_dynamic, inputs_strategy, inputs_symmetric):
        args = {"num_bits": 8, "type": "int", "group_size": None, "block_structure": None, "actorder": None,
                "observer": "minmax", "observer_kwargs": {}}
        qc = {"quant_method": "compressed-tensors", "format": "int-quantized", "quantization_status": "compressed",
              "global_compression_ratio": None, "ignore": ["lm_head"], "kv_cache_scheme": None, "sparsity_config": {},
              "config_groups": {"group_0": {"targets": ["Linear"], "output_activations": None, "format": "int-quantized",
                                            "weights": dict(args, strategy=weights, symmetric=True, dynamic=False),
                                            "input_activations": dict(args, strategy=inputs_strategy, dynamic=inputs_dynamic,
                                                                      symmetric=inputs_symmetric,
                                                                      observer=None if inputs_dynamic else "minmax")}}}
        return qc

    def folder(name, state, torch_dtype, qc):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(dict(LLAMA_CONFIG, torch_dtype=torch_dtype, quantization_config=qc), f, indent=2)
        return d

    mlp_prefix, m = "model.layers.0.mlp", 5

    # llm-compressor's W8A8 preset: channel weights, dynamic per-token symmetric inputs, bf16, lm_head left dense.
    h, f, vocab = 192, 320, 64
    state, wd = {}, {}
    for proj, (n, k) in (("gate_proj", (f, h)), ("up_proj", (f, h)), ("down_proj", (h, f))):
        q, s_w = quantise_weight(torch.randn(n, k, dtype=torch.bfloat16) / math.sqrt(k), "channel")
        state[f"{mlp_prefix}.{proj}.weight"], state[f"{mlp_prefix}.{proj}.weight_scale"] = q, s_w
        wd[proj] = f64(q) * f64(s_w)
    lm_head = torch.randn(vocab, h, dtype=torch.bfloat16)
    state["lm_head.weight"] = lm_head
    d = folder("ct-w8a8-token", state, "bfloat16", config("channel", True, "token", True))
    x = rng.uniform(-2, 2, (m, h)).astype(np.float32)
    token = lambda v: vllm_int8_inputs(v, True, True)
    hid = (ACTIVATIONS["silu"](token(x) @ wd["gate_proj"].T) * (token(x) @ wd["up_proj"].T)).astype(np.float32)
    # The kernels' f32 hidden activations may sit one rounding away from these, across an int8 code's boundary.
    cases.append(FolderCase("int8 compressed-tensors W8A8 channel/token, bf16 scales: mlp", d, "mlp", mlp_prefix, x, "F32",
                            token(hid) @ wd["down_proj"].T, 1e-2, tmp))
    xd = rng.uniform(-2, 2, (m, f)).astype(np.float32)
    xd[1] = 0  # an all-zero row: scale 0, zeros out
    cases.append(FolderCase("int8 compressed-tensors W8A8 channel/token: int8-linear down_proj", d, "int8-linear",
                            f"{mlp_prefix}.down_proj", xd, "F32", token(xd) @ wd["down_proj"].T, 1e-5, tmp))
    _, xb = encode(rng.uniform(-2, 2, (m, h)), "BF16")
    cases.append(FolderCase("int8 compressed-tensors W8A8: lm_head in ignore stays dense bf16", d, "linear", "lm_head",
                            xb, "BF16", xb @ f64(lm_head).T, 1e-5, tmp))
    tp = FolderCase("int8 compressed-tensors W8A8 channel/token: mlp --tensor-parallel over cpu:0,cpu:1", d, "mlp",
                    mlp_prefix, x, "F32", None, 1e-2, tmp)
    tp.expected = np.zeros((m, h))
    for a, b in split_bounds(f, 2):  # down_proj's shards quantise their own slices of the hidden activations
        hs = (ACTIVATIONS["silu"](token(x) @ wd["gate_proj"][a:b].T) * (token(x) @ wd["up_proj"][a:b].T)).astype(np.float32)
        tp.expected += token(hs) @ wd["down_proj"][:, a:b].T
    tp.args += ["--tensor-parallel", "--device", "cpu:0,cpu:1"]
    cases.append(tp)

    # Static inputs for an fp16 model: a tensor weight scale, the observer's input scale (and zero point), F16;
    # a q_proj bias as Qwen2 has one.
    for symmetric in (True, False):
        n, k = 96, 160
        prefix = "model.layers.0.self_attn.q_proj"
        q, s_w = quantise_weight(torch.randn(n, k, dtype=torch.float16) / math.sqrt(k), "tensor")
        bias = torch.randn(n, dtype=torch.float16)
        calib = rng.uniform(-2.5, 3.5, (64, k)).astype(np.float32)
        s_in, z_in = observe_input(torch.from_numpy(calib), torch.float16, symmetric)
        state = {f"{prefix}.weight": q, f"{prefix}.weight_scale": s_w, f"{prefix}.bias": bias, f"{prefix}.input_scale": s_in}
        if not symmetric:
            state[f"{prefix}.input_zero_point"] = z_in
        d = folder(f"ct-w8a8-static-{symmetric}", state, "float16", config("tensor", False, "tensor", symmetric))
        x = rng.uniform(-3, 4, (m, k)).astype(np.float32)  # past the calibrated range: some codes saturate
        xs = vllm_int8_inputs(x, False, symmetric, f64(s_in)[0].astype(np.float32), int(z_in[0]))
        name = "sym" if symmetric else f"asym (zero point {int(z_in[0])})"
        cases.append(FolderCase(f"int8 compressed-tensors W8A8 tensor/static {name}, F16 scales, bias", d, "linear", prefix,
                                x, "F32", xs @ (f64(q) * f64(s_w)).T + f64(bias), 1e-5, tmp))

    # Dynamic per-token asymmetric inputs, row-parallel over three cpus: each shard its own min, max and zero point.
    n, k = 64, 384
    prefix = "model.layers.0.self_attn.o_proj"
    q, s_w = quantise_weight(torch.randn(n, k, dtype=torch.bfloat16) / math.sqrt(k), "channel")
    d = folder("ct-w8a8-token-asym", {f"{prefix}.weight": q, f"{prefix}.weight_scale": s_w}, "bfloat16",
               config("channel", True, "token", False))
    x = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    x[:, :k // 3] = x[:, :k // 3] * 3 + 2  # the first shard's slice wider and off centre
    w = f64(q) * f64(s_w)
    expected = sum(vllm_int8_inputs(x[:, a:b], True, False) @ w[:, a:b].T for a, b in split_bounds(k, 3))
    rp = FolderCase("int8 compressed-tensors W8A8 channel/token asym: row-parallel-linear over cpu:0,cpu:1,cpu:2", d,
                    "linear", prefix, x, "F32", expected, 1e-5, tmp)
    rp.args[1] = "row-parallel-linear"
    rp.args += ["--device", "cpu:0,cpu:1,cpu:2"]
    cases.append(rp)
    cases.append(FolderCase("int8 compressed-tensors W8A8 channel/token asym: int8-linear", d, "int8-linear", prefix, x,
                            "F32", vllm_int8_inputs(x, True, False) @ w.T, 1e-5, tmp))
    return cases


# ---------------------------------------------------------------- GGUF, written by llama.cpp's gguf package

def gguf_available():
    try:
        import gguf  # noqa: F401
        return True
    except ImportError:
        return False


def gguf_blocks(rng, qtype, rows, cols):
    """(raw blocks, float64 values by gguf.quants.dequantize): Q4_0/Q8_0 quantised by gguf from Gaussian
    weights, K-quants random bytes with finite f16 scales (gguf has no K-quant quantiser)."""
    import gguf
    from gguf import GGMLQuantizationType as T
    if qtype in (T.Q4_0, T.Q8_0):
        raw = gguf.quants.quantize(rng.normal(0, 0.05, (rows, cols)).astype(np.float32), qtype)
    else:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        n = rows * cols // block
        raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
        scale_at = [0, 2] if qtype == T.Q4_K else [size - 2]
        for at in scale_at:
            raw[:, at:at + 2] = (rng.uniform(1e-4, 1e-2, n) * rng.choice([-1, 1], n)).astype(np.float16) \
                .view(np.uint8).reshape(n, 2)
        raw = raw.reshape(rows, -1)
    return raw, gguf.quants.dequantize(raw, qtype).astype(np.float64)


class GgufCase:
    """`run --weights model.gguf` as llama.cpp names a block: a Linear (blk.0.ffn_down) or the MLP
    (blk.0.ffn_gate/ffn_up/ffn_down beside attention and norm tensors the MLP must leave alone)."""

    def __init__(self, tmp, rng, layer, types):
        import gguf
        self.name = f"gguf {layer} " + "/".join(t.name for t in types)
        weights, self.input, self.output, _ = scratch_files(tmp)
        weights = weights.replace(".safetensors", ".gguf")
        w = gguf.GGUFWriter(weights, "llama")
        h, f = 512, 256
        lead = (2, 3) if layer == "mlp" else (5,)
        if layer == "linear":
            raw, wd = gguf_blocks(rng, types[0], h, f)
            w.add_tensor("blk.0.ffn_down.weight", raw, raw_dtype=types[0])
            x = rng.uniform(-1, 1, lead + (f,)).astype(np.float32)
            self.expected = linear64(x.reshape(-1, f).astype(np.float64), wd, None).reshape(lead + (h,))
            self.args = ["--layer", "linear", "--prefix", "blk.0.ffn_down"]
        else:
            ws = {}
            for proj, qtype, shape in zip(("ffn_gate", "ffn_up", "ffn_down"), types, ((f, h), (f, h), (h, f))):
                raw, ws[proj] = gguf_blocks(rng, qtype, *shape)
                w.add_tensor(f"blk.0.{proj}.weight", raw, raw_dtype=qtype)
            w.add_tensor("blk.0.ffn_norm.weight", np.ones(h, dtype=np.float32))
            w.add_tensor("blk.0.attn_q.weight", np.zeros((32, h), dtype=np.float16))
            x = rng.uniform(-2, 2, lead + (h,)).astype(np.float32)
            x2 = x.reshape(-1, h).astype(np.float64)
            hid = ACTIVATIONS["silu"](linear64(x2, ws["ffn_gate"], None)) * linear64(x2, ws["ffn_up"], None)
            self.expected = linear64(hid, ws["ffn_down"], None).reshape(lead + (h,))
            self.args = ["--layer", "mlp", "--prefix", "blk.0"]
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        write_safetensors(self.input, {"x": ("F32", x.shape, x.astype("<f4").tobytes())})
        self.tolerance = 1e-5
        self.args += ["--weights", weights, "--input", self.input, "--output", self.output]

    check = Case.check


def gguf_cases(tmp, rng, device=None):
    if not gguf_available():
        print("skip  gguf cases: the gguf package is not installed (pip install gguf)")
        return []
    from gguf import GGMLQuantizationType as T
    cases = [GgufCase(tmp, rng, "linear", [t]) for t in (T.Q4_0, T.Q8_0, T.Q4_K, T.Q6_K)] + \
        [GgufCase(tmp, rng, "mlp", [T.Q4_K, T.Q4_K, T.Q6_K])]
    if device:  # a device weight has one block type, and gate and up are one weight there
        print(f"not run on {device}: gguf mlp with gate Q4_0 and up Q8_0 (a gate and up of different block types)")
        for case in cases:
            case.args += ["--device", device]
            case.name += f" on {device}"
    else:
        cases.append(GgufCase(tmp, rng, "mlp", [T.Q4_0, T.Q8_0, T.Q4_0]))
    return cases


def bad_inputs(tmp, rng):
    """(description, args, file bytes to write first) that must each fail cleanly."""
    good_w, w = encode(rng.uniform(-1, 1, (5, 7)), "F32")
    x_raw, _ = encode(rng.uniform(-1, 1, (2, 7)), "F32")
    paths = {n: os.path.join(tmp, n + ".safetensors") for n in ("w", "x", "y")}
    write_safetensors(paths["x"], {"x": ("F32", (2, 7), x_raw)})

    def weights_file(raw):
        def make():
            with open(paths["w"], "wb") as f:
                f.write(raw)
        return make

    def st(tensors):
        def make():
            write_safetensors(paths["w"], tensors)
        return make

    def raw_file(entry, data):
        """A file whose single header entry is `entry`, written by hand, followed by `data`."""
        text = json.dumps({"weight": entry}).encode()
        return weights_file(struct.pack("<Q", len(text)) + text + data)

    def gguf_truncated(path):
        def make():  # a GGUF header cut inside its tensor infos, written by hand
            name = b"weight"
            raw = struct.pack("<IIQQ", 0x46554747, 3, 1, 0) + struct.pack("<Q", len(name)) + name + struct.pack("<I", 2)
            with open(path, "wb") as f:
                f.write(raw)
        return make

    run_linear = ["run", "--layer", "linear", "--weights", paths["w"], "--input", paths["x"], "--output", paths["y"]]
    wrong_x = os.path.join(tmp, "x_wrong.safetensors")
    write_safetensors(wrong_x, {"x": ("F32", (2, 6), encode(np.zeros((2, 6)), "F32")[0])})
    return [
        ("truncated file", run_linear, raw_file({"dtype": "F32", "shape": [5, 7], "data_offsets": [0, 140]}, good_w[:100])),
        ("file shorter than its header length", run_linear, weights_file(b"\x10\x00")),
        ("bad JSON header", run_linear, weights_file(struct.pack("<Q", 9) + b'{"weight"' + good_w)),
        ("offsets out of range", run_linear, raw_file({"dtype": "F32", "shape": [5, 7], "data_offsets": [4, 144]}, good_w)),
        ("size/shape mismatch", run_linear, raw_file({"dtype": "F32", "shape": [5, 8], "data_offsets": [0, 140]}, good_w)),
        ("missing key", run_linear, st({"wieght": ("F32", (5, 7), good_w)})),
        ("unexpected key", run_linear, st({"weight": ("F32", (5, 7), good_w), "extra": ("F32", (1,), good_w[:4])})),
        ("wrong bias shape", run_linear, st({"weight": ("F32", (5, 7), good_w), "bias": ("F32", (4,), good_w[:16])})),
        ("wrong bias dtype", run_linear, st({"weight": ("F32", (5, 7), good_w), "bias": ("F16", (5,), good_w[:10])})),
        ("unknown activation", ["run", "--layer", "mlp", "--activation", "swiglu", "--weights", paths["w"], "--input",
                                paths["x"], "--output", paths["y"]], st({"gate_proj.weight": ("F32", (5, 7), good_w)})),
        ("input last dim != in_dim", ["run", "--layer", "linear", "--weights", paths["w"], "--input", wrong_x, "--output",
                                      paths["y"]], st({"weight": ("F32", (5, 7), good_w)})),
        ("truncated gguf file", ["run", "--layer", "linear", "--weights", os.path.join(tmp, "w.gguf"), "--input",
                                 paths["x"], "--output", paths["y"]], gguf_truncated(os.path.join(tmp, "w.gguf"))),
        ("missing weights file", ["run", "--layer", "linear", "--weights", os.path.join(tmp, "nope.safetensors"),
                                  "--input", paths["x"], "--output", paths["y"]], lambda: None),
    ]


def on_devices(cases, device, devices):
    """Folder cases moved from cpu devices to `device`; a sharded one, whose expected output depends on
    its number of shards, over as many of `devices` (left out when the list is shorter). Unchanged
    when no device is given."""
    if not device:
        return cases
    moved = []
    for case in cases:
        if "--device" in case.args:
            at = case.args.index("--device") + 1
            count = len(case.args[at].split(","))
            if len(devices.split(",")) < count:
                print(f"not run on {devices}: {case.name} (its expected output is for {count} shards)")
                continue
            here = ",".join(devices.split(",")[:count])
            case.name = case.name.replace(case.args[at], here)
            case.args[at] = here
        else:
            case.args += ["--device", device]
            case.name += f" on {device}"
        moved.append(case)
    return moved


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "little"))
    parser.add_argument("--device", help="run the Linear, MLP, GPTQ, FP8, INT8 and GGUF cases on this device (e.g. gpu:0) and only "
                                         "those; given a list (gpu:0,gpu:1), the parallel layers run over it too")
    parsed = parser.parse_args()
    seed, devices = parsed.seed, parsed.device
    device = devices.split(",")[0] if devices else None
    print(f"crosscheck seed {seed} (rerun with --seed {seed})")
    rng = np.random.default_rng(seed)
    passed = failed = 0
    worst = {}
    with tempfile.TemporaryDirectory() as tmp:
        plans = []
        for dtype in ("F32", "BF16", "F16"):
            for bias in (False, True):
                for clip in (0, 0.5):
                    plans.append(("linear", dtype, bias, clip, None))
            for act in ACTIVATIONS:
                for bias in (False, True):
                    plans.append(("mlp", dtype, bias, 0.5 if act == "silu" and bias else 0, act))
        for i, (layer, dtype, bias, clip, act) in enumerate(plans):
            case = Case(tmp, rng, layer, dtype, bias, clip, act, "model.layers.0.proj" if i % 2 else "")
            if device:
                case.args += ["--device", device]
                case.name += f" on {device}"
            ok, detail = case.check()
            worst[dtype] = max(worst.get(dtype, 0.0), float(detail.split()[2]) if ok else math.inf)
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'pass' if ok else 'FAIL'}  {case.name}: {detail}")
        if device:
            print(f"not run on {device}: the model-folder, tool-layout and bad-input cases (they run on cpu devices)"
                  + ("" if "," in devices else ", and the sharded ones (give --device a list)"))
        sharded = (("column-parallel-linear", "cpu:0,cpu:1,cpu:2", None), ("row-parallel-linear", "cpu:0,cpu:1,cpu:2,cpu:3", None),
                   ("mlp", "cpu:0,cpu:1", "0"), ("mlp", "cpu:0,cpu:1,cpu:2", "1"))
        if device:
            sharded = tuple((layer, devices, env) for layer, _, env in sharded) if "," in devices else ()
        for layer, devices_here, env in sharded:
            case = Case(tmp, rng, "mlp" if layer == "mlp" else "linear", "BF16", True, 0, "silu" if layer == "mlp" else None, "")
            case.args[1] = layer
            case.args += ["--device", devices_here] + (["--tensor-parallel"] if layer == "mlp" else [])
            case.name = f"{layer} over {devices_here}" + (f" LLAMA_ENABLE_DIST_GEMM_KERNELS={env}" if env else "")
            if env is not None:
                os.environ["LLAMA_ENABLE_DIST_GEMM_KERNELS"] = env
            ok, detail = case.check()
            os.environ.pop("LLAMA_ENABLE_DIST_GEMM_KERNELS", None)
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'pass' if ok else 'FAIL'}  {case.name}: {detail}")
        quantised = [GptqCase(tmp, rng, bits, group, v2, act, x_dtype, "model.layers.3.mlp.down_proj")
                     for bits, group, v2, act, x_dtype in ((4, 128, False, False, "F32"), (4, 128, True, True, "F32"),
                                                           (4, 32, False, True, "BF16"), (2, 64, True, False, "F32"),
                                                           (3, -1, False, True, "F32"), (8, 64, True, True, "F16"))]
        quantised += [Fp8Case(tmp, rng, scheme, "model.layers.0.self_attn.o_proj")
                      for scheme in ("static", "per-token", "block")]
        for case in quantised if device else ():  # GPTQ and FP8 have device kernels too
            case.args += ["--device", device]
            case.name += f" on {device}"
        if device and "," in devices:  # and their shards run on the devices of the list
            for case, layer in ((quantised[1], "column-parallel-linear"), (quantised[3], "row-parallel-linear"),
                                (quantised[6], "row-parallel-linear"), (quantised[7], "column-parallel-linear")):
                shard = copy.copy(case)
                shard.args = [a if a not in ("gptq-linear", "fp8-linear") else layer for a in case.args[:-2]]
                shard.args += ["--device", devices]
                shard.name = case.name.replace(f" on {device}", f" as {layer} over {devices}")
                quantised.append(shard)
        quantised += [] if device else folder_cases(tmp, rng)
        quantised += [] if device else tool_layout_cases(tmp, rng)
        quantised += gguf_cases(tmp, rng, device)
        quantised += on_devices(int8_cases(tmp, rng), device, devices)  # INT8 has device kernels too
        quantised += [] if device else weight_only_cases(tmp, rng)
        quantised += [] if device else weight_only_bad_cases(tmp, rng)
        for case in quantised:
            ok, detail = case.check()
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'pass' if ok else 'FAIL'}  {case.name}: {detail}")
        for what, args, make in [] if device else bad_inputs(tmp, rng):
            make()
            r = run_tool(*args)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            ok = r.returncode != 0 and len(lines) == 1 and "Exception" not in lines[0]
            passed, failed = passed + ok, failed + (not ok)
            print(f"{'pass' if ok else 'FAIL'}  bad input, {what}: exit {r.returncode}: {' | '.join(lines)}")
    print("worst relative L2 by weight dtype: " + ", ".join(f"{k} {v:.3e}" for k, v in worst.items()))
    print(f"crosscheck: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
