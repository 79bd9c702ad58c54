#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_safetensors, fuzz_hf_config and fuzz_chat_file (run from the
source root): small safetensors files of every dtype the builder reads and a few edge shapes,
the configs of the tests' Hugging Face fixtures, and /save transcripts in both accepted shapes.
Needs only the Python standard library (the safetensors layout is written by hand)."""
import json
import pathlib
import shutil
import struct


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes); returns the file's bytes."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the header is padded to 8 bytes, as the reference writer does
    return struct.pack("<Q", len(text)) + text + data


def main():
    out = pathlib.Path("fuzz/corpus/fuzz_safetensors")
    out.mkdir(parents=True, exist_ok=True)
    f32 = struct.pack("<6f", 0.5, -1.0, 2.0, 0.0, 3.5, -0.25)
    f16 = struct.pack("<6e", 0.5, -1.0, 2.0, 0.0, 3.5, -0.25)
    bf16 = b"".join(struct.pack("<f", v)[2:] for v in (0.5, -1.0, 2.0, 0.0, 3.5, -0.25))
    seeds = {
        "f32-matrix": [("model.embed_tokens.weight", "F32", [2, 3], f32)],
        "f16-bf16": [("a.weight", "F16", [3, 2], f16), ("b.weight", "BF16", [6], bf16)],
        "scalar-and-empty": [("scale", "F32", [], f32[:4]), ("none", "F32", [0, 4], b"")],
        "ints": [("ids", "I64", [2], struct.pack("<2q", 7, -1)), ("mask", "BOOL", [3], b"\x01\x00\x01")],
        "rank4": [("conv", "F32", [1, 1, 2, 3], f32)],
    }
    for name, tensors in seeds.items():
        (out / f"{name}.safetensors").write_bytes(safetensors(tensors, {"format": "pt"}))
    (out / "header-only.safetensors").write_bytes(safetensors([]))

    out = pathlib.Path("fuzz/corpus/fuzz_hf_config")
    out.mkdir(parents=True, exist_ok=True)
    for config in sorted(pathlib.Path("tests/fixtures/hf").glob("*/config.json")):
        shutil.copyfile(config, out / f"{config.parent.name}.json")

    out = pathlib.Path("fuzz/corpus/fuzz_chat_file")
    out.mkdir(parents=True, exist_ok=True)
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris.\n\u00e9\u4e2d \ud83d\ude00"},
    ]
    (out / "saved.json").write_text(json.dumps({"format": "phirun-chat", "version": 1, "messages": messages}, indent=2))
    (out / "bare-array.json").write_text(json.dumps(messages[1:]))
    (out / "empty.json").write_text('{"format": "phirun-chat", "version": 1, "messages": []}')


if __name__ == "__main__":
    main()
