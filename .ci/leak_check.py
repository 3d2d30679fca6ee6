#!/usr/bin/env python3
"""Held-out honesty: no note line may repeat a long run of a test query's or test question's wording.

Every line of the shipped notes (question banks aside) is compared with every line of tests/data/: a shared
16-character run (whitespace dropped, NFKC, holding 6+ Japanese characters) or five English words in a row
is a leak, because the retrieval and answer figures would then measure copying instead of search. The rule
is the one the before-stop hook applies to added lines; here it holds for all of them. Exit 1 on a leak.
"""
import glob
import re
import sys
import unicodedata


def norm(text):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def probes():
    for path in glob.glob("tests/data/**/*", recursive=True):
        try:
            text = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            continue
        for line in text.splitlines():
            if path.endswith(".tsv"):
                line = line.split("\t")[0]
            elif re.match(r"^\s*(#|参照|解説|出典|---|[a-z]+:)", line):
                continue
            line = re.sub(r"^\s*(- \[[ xX]\]|[>*-]+)\s*", "", line)
            normalised = norm(line)
            if len(normalised) < 16:
                continue
            runs = [normalised[i:i + 16] for i in range(0, len(normalised) - 15, 4)]
            runs = [r for r in runs if sum(ord(c) > 0x2FFF for c in r) >= 6]
            words = re.findall(r"[a-z0-9]+", line.lower())
            grams = [" ".join(words[i:i + 5]) for i in range(len(words) - 4)]
            yield path, line.strip(), runs, grams


def main():
    tests = list(probes())
    leaks = 0
    for path in sorted(glob.glob("notes/**/*.md", recursive=True)):
        if "/questions/" in path or path.endswith("README.md"):
            continue
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            normalised = norm(line)
            words = " ".join(re.findall(r"[a-z0-9]+", line.lower()))
            for test_path, raw, runs, grams in tests:
                if any(r in normalised for r in runs) or any(g in words for g in grams):
                    leaks += 1
                    print(f"{path}:{number}: {line.strip()[:80]}\n  repeats {test_path}: {raw[:80]}")
                    break
    print(f"{leaks} note lines repeat test wording")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
