#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tokenizer_json (run from the source root): small tokenizer.json
files trained with Hugging Face `tokenizers` in the shapes the builder reads: byte-level BPE with
GPT-2's pre-tokenizer (merges as pairs, and as "a b" strings as older files have them), a
SentencePiece-style BPE with byte fallback, and Qwen2's split pattern. Each has at most 512 entries,
the embedding rows of the target's config. Reruns give identical files."""
import json
import pathlib

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

TEXT = [
    "The capital of France is Paris.",
    "Hello, world! 12345 \u00fc \u00e9 \u4e2d\u6587 \U0001F600",
    "def f(x):\n    return x + 1\n",
] * 20
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_level(split=None):
    tokenizer = Tokenizer(models.BPE())
    level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=split is None)
    tokenizer.pre_tokenizer = level if split is None else pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(split), behavior="isolated"), level])
    if split is not None:
        tokenizer.normalizer = normalizers.NFC()
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(TEXT, trainer)
    return json.loads(tokenizer.to_str())


def sentencepiece_style():
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    bytes_ = [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"] + bytes_)
    tokenizer.train_from_iterator(TEXT, trainer)
    return json.loads(tokenizer.to_str())


def main():
    out = pathlib.Path("fuzz/corpus/fuzz_tokenizer_json")
    out.mkdir(parents=True, exist_ok=True)
    seeds = {"byte-level": byte_level(), "qwen2-split": byte_level(QWEN2_PATTERN),
             "sentencepiece-bpe": sentencepiece_style()}
    old_merges = json.loads(json.dumps(seeds["byte-level"]))
    old_merges["model"]["merges"] = [" ".join(pair) for pair in old_merges["model"]["merges"]]
    seeds["byte-level-string-merges"] = old_merges
    for name, tokenizer in seeds.items():
        ids = list(tokenizer["model"]["vocab"].values()) + [t["id"] for t in tokenizer["added_tokens"]]
        assert max(ids) < 512, name
        (out / f"{name}.json").write_text(json.dumps(tokenizer, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
