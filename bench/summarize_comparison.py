#!/usr/bin/env python3
# Turns bench/compare_llamacpp.sh's JSON into a markdown table: tokens/s of llama.cpp and of
# phirun (float and int8 activations), the ratios, and decode as a fraction of the memory
# roofline (bytes of weights read per token / read bandwidth given in GB/s).
#   python3 bench/summarize_comparison.py OUT_DIR 41.6 77.6
import glob
import json
import os
import sys

import gguf


def weight_bytes_per_token(path):
    # Every matrix is read once per decoded token, except the embedding table (one row) unless it
    # is tied to the output head.
    reader = gguf.GGUFReader(path)
    names = {t.name: int(t.n_bytes) for t in reader.tensors}
    total = sum(names.values())
    if "output.weight" in names:
        total -= names.get("token_embd.weight", 0)
    return total


def main():
    out_dir, bw1, bw2 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    bandwidth = {1: bw1 * 1e9, 2: bw2 * 1e9}
    print("| model | test | threads | llama.cpp tok/s | phirun float | phirun int8 | float ÷ llama | int8 ÷ llama | "
          "decode ÷ roofline (llama / float / int8) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for llama_file in sorted(glob.glob(os.path.join(out_dir, "*.llamacpp.json"))):
        name = os.path.basename(llama_file)[: -len(".llamacpp.json")]
        llama = json.load(open(llama_file))
        ours = {acc: json.load(open(os.path.join(out_dir, f"{name}.phirun-{acc}.json"))) for acc in ("float", "int8")}
        per_token = weight_bytes_per_token(ours["float"]["model"])
        for result in ours["float"]["results"]:
            test, threads = result["test"], result["threads"]
            n_prompt = int(test[2:]) if test.startswith("pp") else 0
            n_gen = int(test[2:]) if test.startswith("tg") else 0
            match = [r for r in llama if r["n_prompt"] == n_prompt and r["n_gen"] == n_gen and r["n_threads"] == threads]
            llama_tps = match[0]["avg_ts"] if match else float("nan")
            f = result["median_tokens_per_second"]
            i = [r for r in ours["int8"]["results"] if r["test"] == test and r["threads"] == threads][0][
                "median_tokens_per_second"]
            roof = ""
            if n_gen:
                limit = bandwidth[threads] / per_token
                roof = f"{llama_tps / limit:.2f} / {f / limit:.2f} / {i / limit:.2f}"
            print(f"| {name} | {test} | {threads} | {llama_tps:.1f} | {f:.1f} | {i:.1f} | {f / llama_tps:.2f} | "
                  f"{i / llama_tps:.2f} | {roof} |")


if __name__ == "__main__":
    main()
