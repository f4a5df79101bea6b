"""Map-reduce word count over a folder of text files (aliased decorators)."""

from __future__ import annotations

import glob
import re
from collections import Counter

from dagy import flow as F
from dagy import task as T

WORD = re.compile(r"[a-z']+")


@T
def split_corpus(pattern: str, n_chunks: int) -> list[list[str]]:
    paths = sorted(glob.glob(pattern))
    return [paths[i::n_chunks] for i in range(n_chunks) if paths[i::n_chunks]]


@T(retries=1)
def count_words(paths: list[str]) -> Counter:
    counts: Counter = Counter()
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                counts.update(WORD.findall(line.lower()))
    return counts


@T
def merge_counts(partials: list[Counter]) -> Counter:
    total: Counter = Counter()
    for part in partials:
        total.update(part)
    return total


@T
def top_n(counts: Counter, n: int) -> list[tuple[str, int]]:
    return counts.most_common(n)


@F(name="word-count", log_prints=True)
def word_count(pattern: str = "/data/corpus/**/*.txt", n_chunks: int = 8) -> list:
    chunks = split_corpus(pattern, n_chunks=n_chunks)
    counts = count_words.map(chunks)
    partials = [f.result() for f in counts]
    total = merge_counts(partials)
    top = top_n(total, 20)
    for word, n in top:
        print(f"{word:>20} {n}")
    return top


if __name__ == "__main__":
    word_count()
