#!/usr/bin/env python3
"""Perplexity and KL divergence of an onnxruntime-genai model folder, scored as `phirun perplexity`
and llama-perplexity score: the text tokenized whole (no BOS for SmolLM2), cut into
non-overlapping chunks of -c tokens, each run from an empty cache, the second half of each
chunk scored. The reference is the same Hugging Face checkpoint in float32 through transformers
(its PPL is the method check: it should equal `phirun perplexity` on the F32 GGUF).

  python3 bench/ort_perplexity.py --onnx ORT_FOLDER --hf HF_FOLDER -f TEXT [-c 512] [--chunks N]

ORT_FOLDER: `python3 -m onnxruntime_genai.models.builder -i HF_FOLDER -o ORT_FOLDER -p int4 -e cpu`.
Needs onnxruntime, tokenizers, numpy, and torch + transformers for the reference.
"""

import argparse
import glob
import json
import math
import os

import numpy as np


def log_softmax(logits):
    logits = logits.astype(np.float64)
    top = logits.max(axis=-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))


class OnnxModel:
    def __init__(self, folder):
        import onnxruntime as ort
        with open(os.path.join(folder, "genai_config.json")) as f:
            config = json.load(f)["model"]
        self.layers = config["decoder"]["num_hidden_layers"]
        self.kv_heads = config["decoder"]["num_key_value_heads"]
        self.head_size = config["decoder"]["head_size"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("THREADS", "2"))
        path = os.path.join(folder, config["decoder"]["filename"])
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name: i for i in self.session.get_inputs()}

    def logits(self, ids):
        n = len(ids)
        feed = {"input_ids": np.array([ids], dtype=np.int64),
                "attention_mask": np.ones((1, n), dtype=np.int64)}
        if "position_ids" in self.inputs:
            feed["position_ids"] = np.arange(n, dtype=np.int64)[None, :]
        for name, info in self.inputs.items():
            if name.startswith("past_key_values"):
                dtype = np.float16 if "float16" in info.type else np.float32
                feed[name] = np.zeros((1, self.kv_heads, 0, self.head_size), dtype=dtype)
        return self.session.run(["logits"], feed)[0][0].astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--hf", required=True)
    parser.add_argument("-f", "--file", required=True)
    parser.add_argument("-c", "--context", type=int, default=512)
    parser.add_argument("--chunks", type=int, default=0)
    args = parser.parse_args()

    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    tokens = Tokenizer.from_file(os.path.join(args.hf, "tokenizer.json")).encode(text, add_special_tokens=False).ids
    chunks = len(tokens) // args.context
    if args.chunks:
        chunks = min(chunks, args.chunks)
    onnx = OnnxModel(args.onnx)
    reference = AutoModelForCausalLM.from_pretrained(args.hf, dtype=torch.float32).eval()
    nll_onnx, nll_ref, kld, same_top = [], [], [], []
    for c in range(chunks):
        ids = tokens[c * args.context:(c + 1) * args.context]
        with torch.no_grad():
            ref = log_softmax(reference(torch.tensor([ids])).logits[0].numpy())
        ours = log_softmax(onnx.logits(ids))
        for i in range(args.context // 2, args.context - 1):
            target = ids[i + 1]
            nll_onnx.append(-ours[i, target])
            nll_ref.append(-ref[i, target])
            kld.append(float(np.sum(np.exp(ref[i]) * (ref[i] - ours[i]))))
            same_top.append(int(np.argmax(ref[i]) == np.argmax(ours[i])))
        print(f"[{c + 1}] onnx {math.exp(np.mean(nll_onnx)):.4f}, F32 {math.exp(np.mean(nll_ref)):.4f}, "
              f"KLD {np.mean(kld):.6f}", flush=True)
    print()

    def ppl(nll):
        nll = np.array(nll)
        mean = nll.mean()
        return math.exp(mean), math.exp(mean) * nll.std() / math.sqrt(len(nll) - 1)

    print(f"{len(tokens)} tokens, {chunks} chunks of {args.context}, {len(nll_onnx)} tokens scored")
    print("PPL (onnx)       = %.4f +/- %.5f" % ppl(nll_onnx))
    print("PPL (F32 ref)    = %.4f +/- %.5f" % ppl(nll_ref))
    print(f"KLD mean         = {np.mean(kld):.6f} +/- {np.std(kld) / math.sqrt(len(kld) - 1):.6f}")
    print(f"same top-1       = {100 * np.mean(same_top):.3f}%")
    print("onnx files: " + ", ".join(os.path.basename(p) for p in sorted(glob.glob(os.path.join(args.onnx, "*.onnx*")))))


if __name__ == "__main__":
    main()
