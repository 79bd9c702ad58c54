#!/usr/bin/env python3
# Writes a random-weight llama-architecture GGUF of a Hugging Face config's shape (for speed
# benchmarks only: the weights are noise), with a synthetic byte-level BPE vocabulary, so that
# phirun and llama.cpp load the same file. Tensors are streamed: memory stays at one tensor.
#   python3 bench/make_random_gguf.py CONFIG.json OUT.gguf {F16,Q8_0,Q4_0,Q4_1}
import json
import sys

import numpy as np
import gguf

rng = np.random.default_rng(1234)


def byte_level_vocab(size):
    # GPT-2's byte-to-unicode table: the 256 single-byte tokens, then two-byte merges, then one
    # control token (end of text) at the last id.
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    singles = [chars[b] for b in range(256)]
    tokens, merges = list(singles), []
    for a in singles:
        for b in singles:
            if len(tokens) >= size - 1:
                break
            tokens.append(a + b)
            merges.append(a + " " + b)
    tokens.append("<|endoftext|>")
    types = [gguf.TokenType.NORMAL] * (size - 1) + [gguf.TokenType.CONTROL]
    return tokens, types, merges


def random_tensor_bytes(qtype, rows, cols):
    # Quantized types: random codes with plausible scales (what matters for speed is the
    # layout and the size, not the values). F16/F32: normal(0, 0.02).
    if qtype == gguf.GGMLQuantizationType.F16:
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)
    if qtype == gguf.GGMLQuantizationType.F32:
        return rng.standard_normal((rows, cols), dtype=np.float32) * 0.02
    blocks = rows * cols // 32
    scale = np.full((blocks, 1), 0.003, dtype=np.float16).view(np.uint8)
    if qtype == gguf.GGMLQuantizationType.Q8_0:
        codes = rng.integers(-127, 128, (blocks, 32), dtype=np.int8).view(np.uint8)
        data = np.concatenate([scale, codes], axis=1)
    elif qtype == gguf.GGMLQuantizationType.Q4_0:
        data = np.concatenate([scale, rng.integers(0, 256, (blocks, 16), dtype=np.uint8)], axis=1)
    elif qtype == gguf.GGMLQuantizationType.Q4_1:
        minimum = np.full((blocks, 1), -0.024, dtype=np.float16).view(np.uint8)
        data = np.concatenate([scale, minimum, rng.integers(0, 256, (blocks, 16), dtype=np.uint8)], axis=1)
    else:
        raise SystemExit(f"unsupported type {qtype}")
    return data.reshape(rows, -1)


def main():
    config_path, out_path, type_name = sys.argv[1:4]
    config = json.load(open(config_path))
    qtype = gguf.GGMLQuantizationType[type_name]
    hidden, ffn = config["hidden_size"], config["intermediate_size"]
    n_layers, n_heads = config["num_hidden_layers"], config["num_attention_heads"]
    n_kv, vocab = config.get("num_key_value_heads", n_heads), config["vocab_size"]
    head_dim = hidden // n_heads

    writer = gguf.GGUFWriter(out_path, "llama")
    # Not the model's own name: llama.cpp special-cases names containing "phi3".
    writer.add_name("random-weight benchmark model")
    writer.add_context_length(config.get("original_max_position_embeddings", config["max_position_embeddings"]))
    writer.add_embedding_length(hidden)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(n_heads)
    writer.add_head_count_kv(n_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(config.get("rope_theta", 10000.0))
    writer.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-5))
    writer.add_file_type(int(qtype))
    tokens, types, merges = byte_level_vocab(vocab)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")  # llama.cpp knows "default", not "gpt2"
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab - 1)
    writer.add_eos_token_id(vocab - 1)
    writer.add_add_bos_token(False)

    F32 = gguf.GGMLQuantizationType.F32
    specs = [("token_embd.weight", qtype, vocab, hidden)]
    for l in range(n_layers):
        b = f"blk.{l}."
        specs += [(b + "attn_norm.weight", F32, 1, hidden), (b + "attn_q.weight", qtype, n_heads * head_dim, hidden),
                  (b + "attn_k.weight", qtype, n_kv * head_dim, hidden), (b + "attn_v.weight", qtype, n_kv * head_dim, hidden),
                  (b + "attn_output.weight", qtype, hidden, n_heads * head_dim), (b + "ffn_norm.weight", F32, 1, hidden),
                  (b + "ffn_gate.weight", qtype, ffn, hidden), (b + "ffn_up.weight", qtype, ffn, hidden),
                  (b + "ffn_down.weight", qtype, hidden, ffn)]
    specs += [("output_norm.weight", F32, 1, hidden), ("output.weight", qtype, vocab, hidden)]

    def data_of(name, t, rows, cols):
        if rows == 1:
            return np.ones(cols, dtype=np.float32)
        return random_tensor_bytes(t, rows, cols)

    float_types = {F32: np.float32, gguf.GGMLQuantizationType.F16: np.float16}
    for name, t, rows, cols in specs:
        shape = (cols,) if rows == 1 else (rows, cols)
        if t in float_types:
            dtype = np.dtype(float_types[t])
            writer.add_tensor_info(name, shape, dtype, int(np.prod(shape)) * dtype.itemsize)
        else:
            byte_shape = gguf.quant_shape_to_byte_shape(shape, t)
            writer.add_tensor_info(name, byte_shape, np.dtype(np.uint8), int(np.prod(byte_shape)), raw_dtype=t)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for name, t, rows, cols in specs:
        writer.write_tensor_data(data_of(name, t, rows, cols))
    writer.close()


if __name__ == "__main__":
    main()
