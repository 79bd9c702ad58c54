#!/usr/bin/env python3
"""Q8_0, Q4_0 and Q4_1 judged on the random-weight fixtures: phirun's quantizers against llama.cpp's.

SmolLM2-135M's linear weights already lie on a Q4_1 grid, so re-quantizing it cannot judge a Q4_1
quantizer. This script judges each format on the SmolLM2-shaped and Phi-3-shaped fixtures of
tests/fixtures/hf (smollm2-tiny, phi3-tiny: real configs shrunk, real tokenizers), whose weights
come from a formula, not from training:

  uniform   the fixtures' own weights (models/builder/random_weights.h: uniform in [-1, 1) times the
            power of two nearest 1/sqrt(fan_in)); no outliers, the easy case for max-abs rounding
  gaussian  the same tensors redrawn from a normal distribution, std 1/sqrt(fan_in)
  student5  redrawn from Student's t with 5 degrees of freedom (heavy tails, like trained weights'
            outliers), scaled to the same std

For each, the F32 GGUF is the source; `phirun build` (its default search, and --plain-rounding as
the check that the plain rule matches llama.cpp's bit for bit) and `llama-quantize --pure` (every
matrix at the asked type, embedding and head included, as phirun's --embed-precision and
--lm-head-precision do) make each type from it. Printed per file:
  NMSE      sum (w - w_q)^2 / sum w^2 over every matrix (the embedding/head included), from the
            GGUF files themselves, dequantized with the gguf package
  KLD       mean KL divergence of the logits against the F32 source, `phirun perplexity -c 512
            --kld-base` on the first --chunks chunks of --text, and the share of the same top-1 token

Then the same condensed: phirun's search against llama.cpp, with the relative difference.

usage: bench/quant_fixtures.py --llama-bin DIR [--out DIR] [--phirun build/tools/phirun]
         [--text tests/data/eval-text/wiki.test.raw.406] [--chunks 8] [--threads 2]
         [--fixtures smollm2-tiny,phi3-tiny] [--weights uniform,gaussian,student5]
Needs numpy and the gguf package; SmolLM2's tokenizer.json is rebuilt from the default model's GGUF
(--default-model). About 1.5 GB of disk in --out for the base log-probabilities.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SEED = 20241125  # the fixtures' seed (tests/fixtures/hf/*/reference.json)

# name, phirun build flags, llama-quantize type (None: phirun only)
FILES = [
    ("phirun-q8_0", ["-p", "int8"], None),
    ("llamacpp-q8_0", None, "Q8_0"),
    ("phirun-q4_0-plain", ["-p", "int4", "--int4-type", "q4_0", "--plain-rounding"], None),
    ("phirun-q4_0", ["-p", "int4", "--int4-type", "q4_0"], None),
    ("llamacpp-q4_0", None, "Q4_0"),
    ("phirun-q4_1-plain", ["-p", "int4", "--int4-type", "q4_1", "--plain-rounding"], None),
    ("phirun-q4_1", ["-p", "int4", "--int4-type", "q4_1"], None),
    ("llamacpp-q4_1", None, "Q4_1"),
]


def run(args, log):
    with open(log, "w") as f:
        result = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.exit(f"quant_fixtures: {' '.join(args)} failed (exit {result.returncode}), see {log}")


def source_folder(name, work, default_model):
    """The fixture's committed files, plus SmolLM2's tokenizer.json where the fixture uses it."""
    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    committed = os.path.join(FIXTURES, "hf", name)
    for file in os.listdir(committed):
        if file.endswith(".json") and file != "reference.json":
            shutil.copy(os.path.join(committed, file), folder)
    if not os.path.exists(os.path.join(folder, "tokenizer.json")):
        sys.path.insert(0, FIXTURES)
        from smollm2_tokenizer import tokenizer_json_from_gguf
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            f.write(tokenizer_json_from_gguf(default_model))
    return folder


def redraw(source, target, distribution):
    """A copy of the F32 GGUF `source` with every matrix redrawn from `distribution` (std
    1/sqrt(row length)), seeded by the tensor's name: the same shapes, tokenizer and metadata."""
    import zlib

    import numpy as np
    from gguf import GGUFReader

    shutil.copy(source, target)
    reader = GGUFReader(target, "r+")
    for tensor in reader.tensors:
        if len(tensor.shape) < 2 or tensor.data.dtype != np.float32:
            continue
        rng = np.random.default_rng([SEED, zlib.crc32(tensor.name.encode())])
        row = int(tensor.shape[0])  # gguf lists the row length first
        if distribution == "gaussian":
            values = rng.standard_normal(tensor.data.size)
        else:  # Student's t, 5 degrees of freedom, scaled to unit variance (variance 5/3)
            values = rng.standard_t(5, tensor.data.size) / np.sqrt(5.0 / 3.0)
        tensor.data[...] = (values / np.sqrt(row)).astype(np.float32).reshape(tensor.data.shape)
    reader.data.flush()


def weight_nmse(source, quantized):
    import numpy as np
    from gguf import GGUFReader
    from gguf.quants import dequantize

    base = {t.name: t for t in GGUFReader(source).tensors}
    error = energy = 0.0
    for tensor in GGUFReader(quantized).tensors:
        reference = base[tensor.name]
        if len(reference.shape) < 2:
            continue
        x = np.asarray(reference.data, dtype=np.float64).reshape(-1)
        y = dequantize(tensor.data, tensor.tensor_type).astype(np.float64).reshape(-1)
        error += float(np.sum((x - y) ** 2))
        energy += float(np.sum(x * x))
    return error / energy


def perplexity(phirun, model, text, chunks, threads, base, log):
    run([phirun, "perplexity", "-m", model, "-f", text, "-c", "512", "--chunks", str(chunks), "-t", str(threads),
         "--kld-base", base], log)
    with open(log) as f:
        out = f.read()
    ppl = re.search(r"^PPL = ([0-9.]+)", out, re.M).group(1)
    kld = re.search(r"^KLD mean *= ([0-9.]+) \+/- ([0-9.]+)", out, re.M)
    top = re.search(r"^same top-1 *= ([0-9.]+%)", out, re.M)
    return ppl, kld, top


def summarize(lines):
    """The per-file table condensed: phirun's search against llama.cpp's file, per fixture,
    weights and type, with the relative difference."""
    rows, order = {}, []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 8 or cells[0] in ("fixture", "---"):
            continue
        rows[tuple(cells[:3])] = cells
        if tuple(cells[:2]) not in order:
            order.append(tuple(cells[:2]))
    print()
    print("| fixture | weights | type | NMSE phirun / llama.cpp | KLD phirun / llama.cpp | same top-1 phirun / llama.cpp |")
    print("|---|---|---|---|---|---|")
    for fixture, weights in order:
        for kind in ("q8_0", "q4_0", "q4_1"):
            ours, theirs = rows.get((fixture, weights, "phirun-" + kind)), rows.get((fixture, weights, "llamacpp-" + kind))
            if not ours or not theirs:
                continue
            nmse = float(ours[4]), float(theirs[4])
            kld = float(ours[5].split()[0]), float(theirs[5].split()[0])
            print(f"| {fixture} | {weights} | {kind.upper()} | {nmse[0]:.2e} / {nmse[1]:.2e} ({(nmse[0] / nmse[1] - 1) * 100:+.0f}%) "
                  f"| {kld[0]:.3g} / {kld[1]:.3g} ({(kld[0] / kld[1] - 1) * 100:+.0f}%) | {ours[6]} / {theirs[6]} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-bin", help="folder of llama.cpp's llama-quantize")
    parser.add_argument("--out", default="quant-fixtures-out")
    parser.add_argument("--phirun", default=os.path.join(ROOT, "build", "tools", "phirun"))
    parser.add_argument("--text", default=os.path.join(ROOT, "tests", "data", "eval-text", "wiki.test.raw.406"))
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fixtures", default="smollm2-tiny,phi3-tiny")
    parser.add_argument("--weights", default="uniform,gaussian,student5")
    parser.add_argument("--summarize", metavar="TABLE", help="only condense a table this script printed before")
    parser.add_argument("--default-model",
                        default=os.path.expanduser("~/.cache/phirun/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    args = parser.parse_args()
    if args.summarize:
        with open(args.summarize) as f:
            summarize(f.readlines())
        return
    if not args.llama_bin:
        parser.error("--llama-bin (the folder of llama-quantize) is required")
    phirun = os.path.realpath(args.phirun)
    quantize = os.path.join(args.llama_bin, "llama-quantize")
    text = os.path.realpath(args.text)
    os.makedirs(args.out, exist_ok=True)

    printed = []

    def row(line):
        printed.append(line)
        print(line, flush=True)

    row("| fixture | weights | file | type | NMSE vs F32 | KLD vs F32 | same top-1 | PPL (F32: base) |")
    row("|---|---|---|---|---|---|---|---|")
    for fixture in args.fixtures.split(","):
        folder = source_folder(fixture, args.out, args.default_model)
        uniform = os.path.join(args.out, f"{fixture}-uniform-f32.gguf")
        run([phirun, "build", "--random-weights", "--config", os.path.join(folder, "config.json"), "--tokenizer",
             folder, "--seed", str(SEED), "-p", "fp32", "-o", uniform, "--force", "-q"],
            os.path.join(args.out, f"build-{fixture}-uniform-f32.log"))
        for weights in args.weights.split(","):
            stem = os.path.join(args.out, f"{fixture}-{weights}")
            source = f"{stem}-f32.gguf"
            if weights != "uniform":
                redraw(uniform, source, weights)
            base = f"{stem}.kld"
            if os.path.exists(base):
                os.remove(base)
            ppl, _, _ = perplexity(phirun, source, text, args.chunks, args.threads, base, f"{stem}-ppl-f32.log")
            row(f"| {fixture} | {weights} | F32 source | F32 | 0 | (base) | | {ppl} |")
            for name, flags, llama_type in FILES:
                model = f"{stem}-{name}.gguf"
                log = f"{stem}-build-{name}.log"
                if flags is not None:
                    run([phirun, "build", "-i", source, "-o", model, "--force", "-q", "-t", str(args.threads),
                         "--embed-precision", flags[1], "--lm-head-precision", flags[1]] + flags, log)
                else:
                    run([quantize, "--pure", source, model, llama_type, str(args.threads)], log)
                kind = (llama_type or ("Q8_0" if flags[1] == "int8" else flags[3].upper()))
                nmse = weight_nmse(source, model)
                ppl, kld, top = perplexity(phirun, model, text, args.chunks, args.threads, base,
                                           f"{stem}-ppl-{name}.log")
                row(f"| {fixture} | {weights} | {name} | {kind} | {nmse:.5e} | {kld.group(1)} ± {kld.group(2)} "
                    f"| {top.group(1)} | {ppl} |")
            os.remove(base)
    summarize(printed)


if __name__ == "__main__":
    main()
