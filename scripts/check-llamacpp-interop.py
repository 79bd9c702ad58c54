#!/usr/bin/env python3
"""Checks that GGUF files written by `phirun build` load and run in llama.cpp.

  python3 scripts/check-llamacpp-interop.py --phirun build/tools/phirun \
      --llama-completion /path/to/llama-completion [--fixtures phi3-tiny,mistral-window-tiny]

For each random-weight fixture of tests/fixtures/hf (weights made by the fixture scripts' formula,
so torch and transformers are needed), it writes the Hugging Face folder, builds an FP32 GGUF with
phirun, runs 8 greedy tokens with llama-completion and with `phirun generate`, and prints both
continuations. A fixture fails when llama.cpp cannot load the file or generates nothing. The texts
are shown, not compared: llama.cpp picks LongRoPE's factor set by context size, not by position
(see README), and random weights make near-ties common. Exit status 1 when any fixture fails.
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))

PROMPT = "Once upon a time, there was a little girl"


def spec_of(name):
    import make_arch_fixtures as arch  # noqa: F401  (installs the llama2 tokenizer hook)
    import make_hf_checkpoints as hf
    return arch.SPECS.get(name) or hf.SPECS[name], hf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phirun", required=True)
    ap.add_argument("--llama-completion", required=True)
    ap.add_argument("--fixtures", default="phi3-tiny,phi3-window-tiny,phi3-longrope-tiny,phi4mini-longrope-tiny,"
                                          "mistral-window-tiny,qwen2-tiny,gemma-tiny")
    args = ap.parse_args()
    failures = 0
    for name in args.fixtures.split(","):
        spec, hf = spec_of(name)
        with tempfile.TemporaryDirectory(prefix=name + "-") as work:
            folder = os.path.join(work, "hf")
            hf.PROMPTS = [PROMPT]
            hf.make_checkpoint(name, spec, folder)
            gguf = os.path.join(work, "model.gguf")
            subprocess.run([args.phirun, "build", "-i", folder, "-o", gguf, "-p", "fp32", "--force"], check=True,
                           capture_output=True)
            llama = subprocess.run([args.llama_completion, "-m", gguf, "-p", PROMPT, "-n", "8", "--temp", "0",
                                    "-no-cnv", "-c", "512"], capture_output=True, text=True, timeout=300)
            ours = subprocess.run([args.phirun, "generate", "-m", gguf, "-p", PROMPT, "-n", "8"],
                                  capture_output=True, text=True, timeout=300)
            ok = llama.returncode == 0 and len(llama.stdout) > len(PROMPT)
            failures += not ok
            print(f"{name}: llama.cpp {'loads and runs' if ok else 'FAILED'}")
            print(f"  llama.cpp: {llama.stdout.strip()!r}")
            print(f"  phirun:    {ours.stdout.strip()!r}")
            if not ok:
                print("  " + llama.stderr.strip().replace("\n", "\n  ")[-2000:])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
