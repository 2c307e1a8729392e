"""Benchmark: how well cs reads the sentiment of customer-success notes,
VADER alone against VADER with the shipped domain lexicon (docs/text.md).

    python benchmarks/text_quality.py [--notes benchmarks/data/cs_notes.csv]

The notes (benchmarks/data/cs_notes.csv) are short CS notes written and
labelled by hand for this benchmark (positive, neutral, negative). A note
given no score (not English, empty) counts as wrong. Prints accuracy and
macro-F1 of each, and each one's confusion, as Markdown for RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from cs_cli.services.text.sentiment import Analyser
from cs_cli.specs.lexicon import load_lexicon

LABELS = ("negative", "neutral", "positive")
NOTES = Path(__file__).resolve().parent / "data" / "cs_notes.csv"


def scores(truth: list[str], predicted: list[str]) -> tuple[float, float, dict[str, float]]:
    """Accuracy, macro-F1 and each label's F1."""
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    f1 = {}
    for label in LABELS:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return accuracy, sum(f1.values()) / len(f1), f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=Path, default=NOTES)
    args = parser.parse_args()
    with args.notes.open(newline="") as f:
        rows = list(csv.DictReader(f))
    truth = [r["label"] for r in rows]
    lexicon = load_lexicon()
    print(f"{len(rows)} notes: " + ", ".join(f"{truth.count(label)} {label}" for label in LABELS))
    print()
    print("| analyser | accuracy | macro-F1 | F1 negative | F1 neutral | F1 positive | no score |")
    print("|---|---|---|---|---|---|---|")
    for name, analyser in (
        ("VADER alone", Analyser(lexicon, domain=False)),
        ("VADER + domain lexicon", Analyser(lexicon)),
    ):
        readings = [analyser.read(r["text"]) for r in rows]
        predicted = [r.label.value if r else "none" for r in readings]
        accuracy, macro, f1 = scores(truth, predicted)
        missing = predicted.count("none")
        print(
            f"| {name} | {accuracy:.3f} | {macro:.3f} | {f1['negative']:.3f} | {f1['neutral']:.3f} "
            f"| {f1['positive']:.3f} | {missing} |"
        )


if __name__ == "__main__":
    main()
