#!/usr/bin/env python3
# Reads a compressed-tensors folder written by `output: {format: compressed-tensors}` with numpy
# only (no torch), following compressed-tensors' own semantics (pack_to_int32 / unpack_from_int32:
# codes + 2^(bits-1) packed 32/bits per int32 along the input, zero points packed along the output;
# bitmasks as numpy.packbits(bitorder="little")), and compares each compressed module with the
# source folder's weight:
#
#   python3 scripts/check-compressed-tensors.py SOURCE_FOLDER OUTPUT_FOLDER
#
# pack-quantized: prints max |dequantized - source| / (scale / 2) over all modules (about 1 for RTN,
# which rounds to nearest without clipping; larger for GPTQ, which moves weights). Sparse: checks
# the structure (2 kept of every 4 for sparse-24-bitmask, row_offsets for sparse-bitmask) and prints
# whether every kept value equals the source's (true for magnitude and Wanda pruning, which only
# zero weights). Exits 1 when a structural check fails. Needs numpy; single safetensors file only.
import json, struct, sys
import numpy as np

DT = {"F16": np.float16, "F32": np.float32, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    out = {}
    for k, v in json.loads(b[8:8 + n]).items():
        if k != "__metadata__":
            s, e = v["data_offsets"]
            out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=DT[v["dtype"]]).reshape(v["shape"])
    return out


def unpack(value, bits, shape, dim):
    pf, mask = 32 // bits, (1 << bits) - 1
    v = value.astype(np.int64) & 0xFFFFFFFF
    if dim == 0:
        v = v.T
        shape = (shape[1], shape[0])
    u = np.zeros((v.shape[0], v.shape[1] * pf), np.int64)
    for i in range(pf):
        u[:, i::pf] = (v >> (bits * i)) & mask
    u = u[:, :shape[1]] - (1 << (bits - 1))
    return u.T if dim == 0 else u


def main(src_dir, out_dir):
    src = safetensors(src_dir + "/model.safetensors")
    t = safetensors(out_dir + "/model.safetensors")
    qc = json.load(open(out_dir + "/config.json"))["quantization_config"]
    assert qc["quant_method"] == "compressed-tensors", qc["quant_method"]
    n, worst, same = 0, 0.0, True
    if qc.get("format") == "pack-quantized":
        w = qc["config_groups"]["group_0"]["weights"]
        bits = w["num_bits"]
        for k in t:
            if not k.endswith(".weight_packed"):
                continue
            m = k[:-len(".weight_packed")]
            shape = [int(x) for x in t[m + ".weight_shape"]]
            q = unpack(t[k], bits, shape, 1)
            sc = t[m + ".weight_scale"].astype(np.float32)
            zp = (np.zeros(sc.shape, np.int64) if w["symmetric"]
                  else unpack(t[m + ".weight_zero_point"], bits, sc.shape, 0))
            g = (t[m + ".weight_g_idx"].astype(np.int64) if m + ".weight_g_idx" in t
                 else np.arange(shape[1]) // (w["group_size"] or shape[1]))
            deq = (q - zp[:, g]) * sc[:, g]
            err = np.abs(deq - src[m + ".weight"].astype(np.float32)) / (sc[:, g] / 2 + 1e-12)
            worst, n = max(worst, float(err.max())), n + 1
        print(f"pack-quantized {bits}-bit {w['strategy']} symmetric={w['symmetric']}: {n} modules,"
              f" max |dequantized - source| / (scale/2) = {worst:.4f}")
    else:
        sc = qc["sparsity_config"]
        for k in t:
            if not k.endswith(".bitmask"):
                continue
            m = k[:-len(".bitmask")]
            shape = [int(x) for x in t[m + ".shape"].flatten()]
            mask = np.unpackbits(t[k], axis=-1, count=shape[-1], bitorder="little").astype(bool)
            vals = t[m + ".compressed"].flatten()
            if mask.sum() != vals.size:
                sys.exit(f"{m}: the mask sets {mask.sum()} values, compressed holds {vals.size}")
            if sc["format"] == "sparse-24-bitmask" and not (mask.reshape(-1, 4).sum(1) == 2).all():
                sys.exit(f"{m}: a group of 4 does not keep exactly 2")
            if sc["format"] == "sparse-bitmask":
                counts = mask.sum(1)
                if not (t[m + ".row_offsets"] == np.cumsum(counts) - counts).all():
                    sys.exit(f"{m}: row_offsets do not match the mask")
            ref = src[m + ".weight"]
            same &= bool((vals.view(np.uint8) == ref[mask].view(np.uint8)).all())
            n += 1
        print(f"{sc['format']} ({sc['sparsity_structure']}): {n} modules, kept values equal the"
              f" source: {same}, global_sparsity {sc['global_sparsity']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
