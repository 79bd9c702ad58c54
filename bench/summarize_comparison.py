#!/usr/bin/env python3
# Turns bench/compare_llamacpp.sh's JSON into a markdown table: tokens/s of llama.cpp and of
# phirun (float, int16 and int8 activations), the ratios, and decode as a fraction of the memory
# roofline (bytes of weights read per token / read bandwidth given in GB/s), prefill as a fraction
# of the arithmetic peak (2 operations per weight per token; int8 dot peak for int8 activations,
# half of it for int16 (two int8 dots per weight), FP32 FMA peak for float ones; GOP/s at 1 and
# 2 threads).
# A second llama.cpp build's llama-bench JSON for the same file, OUT_DIR/NAME.llamacpp-*.json
# (e.g. a native build whose AMX prefill crashes, run for decode only), joins the first: each
# test takes the faster of the builds that ran it, so phirun is compared with llama.cpp's best.
#   python3 bench/summarize_comparison.py OUT_DIR BW1 BW2 INT8_1 INT8_2 FMA_1 FMA_2
import glob
import json
import os
import sys

import gguf


def weights_per_token(path):
    # Every matrix is read once per decoded token, except the embedding table (one row) unless it
    # is tied to the output head. Returns (bytes read per decoded token, weights
    # multiplied per prompt token).
    reader = gguf.GGUFReader(path)
    sizes = {t.name: (int(t.n_bytes), int(t.n_elements)) for t in reader.tensors if len(t.shape) == 2}
    head = sizes.get("output.weight", sizes.get("token_embd.weight"))
    if "output.weight" in sizes:
        sizes.pop("token_embd.weight", None)
    # Prefill computes logits for the last prompt token only: the head is not part of its work.
    return sum(b for b, _ in sizes.values()), sum(e for _, e in sizes.values()) - head[1]


def main():
    out_dir = sys.argv[1]
    bw1, bw2, int8_1, int8_2, fma_1, fma_2 = (float(v) for v in sys.argv[2:8])
    bandwidth = {1: bw1 * 1e9, 2: bw2 * 1e9}
    int8_peak = {1: int8_1 * 1e9, 2: int8_2 * 1e9}
    fma_peak = {1: fma_1 * 1e9, 2: fma_2 * 1e9}
    print("| model | test | threads | llama.cpp tok/s | phirun float | phirun int16 | phirun int8 | float ÷ llama | "
          "int16 ÷ llama | int8 ÷ llama | decode ÷ roofline, prefill ÷ peak (llama / float / int16 / int8) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for llama_file in sorted(glob.glob(os.path.join(out_dir, "*.llamacpp.json"))):
        name = os.path.basename(llama_file)[: -len(".llamacpp.json")]
        try:
            llama = json.load(open(llama_file))
            for other in sorted(glob.glob(os.path.join(out_dir, f"{name}.llamacpp-*.json"))):
                llama += json.load(open(other))
            ours = {"float": json.load(open(os.path.join(out_dir, f"{name}.phirun-float.json")))}
            # Float weight types have no integer path: their int8/int16 runs are the float one again.
            for accuracy in ("int16", "int8"):
                path = os.path.join(out_dir, f"{name}.phirun-{accuracy}.json")
                ours[accuracy] = json.load(open(path)) if os.path.exists(path) else None
        except (OSError, json.JSONDecodeError):
            print(f"| {name} | (incomplete results) |", file=sys.stderr)
            continue
        per_token, elements = weights_per_token(ours["float"]["model"])
        for result in ours["float"]["results"]:
            test, threads = result["test"], result["threads"]
            n_prompt = int(test[2:]) if test.startswith("pp") else 0
            n_gen = int(test[2:]) if test.startswith("tg") else 0
            match = [r for r in llama if r["n_prompt"] == n_prompt and r["n_gen"] == n_gen and r["n_threads"] == threads]
            llama_tps = max(r["avg_ts"] for r in match) if match else float("nan")
            f = result["median_tokens_per_second"]
            blocked = name.split(".")[-1].startswith("Q")

            def integer_rate(accuracy):
                if not ours[accuracy] or not blocked:
                    return float("nan")
                return [r for r in ours[accuracy]["results"] if r["test"] == test and r["threads"] == threads][0][
                    "median_tokens_per_second"]

            h, i = integer_rate("int16"), integer_rate("int8")
            if n_gen:
                limit = bandwidth[threads] / per_token
                roof = f"{llama_tps / limit:.2f} / {f / limit:.2f} / {h / limit:.2f} / {i / limit:.2f}"
            else:  # llama.cpp's quantized matmuls use int8 activations, its F16/F32 ones float
                ops = 2.0 * elements
                llama_peak = int8_peak[threads] if blocked else fma_peak[threads]
                roof = (f"{llama_tps * ops / llama_peak:.2f} / {f * ops / fma_peak[threads]:.2f} / "
                        f"{h * ops / (int8_peak[threads] / 2):.2f} / {i * ops / int8_peak[threads]:.2f}")
            print(f"| {name} | {test} | {threads} | {llama_tps:.1f} | {f:.1f} | {h:.1f} | {i:.1f} | "
                  f"{f / llama_tps:.2f} | {h / llama_tps:.2f} | {i / llama_tps:.2f} | {roof} |")


if __name__ == "__main__":
    main()
