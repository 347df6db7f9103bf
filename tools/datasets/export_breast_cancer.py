#!/usr/bin/env python3
"""Exports the example data sets under examples/data/ from the copies bundled with scikit-learn.

Run once; the CSV files are committed, so nothing downloads anything at build or test time:

    python3 tools/datasets/export_breast_cancer.py            # breast cancer and digits
    python3 tools/datasets/export_breast_cancer.py --check    # re-export to memory and compare

Both splits are stratified with a fixed seed (random_state=0): 455 training and 114 test rows for
breast cancer (Wisconsin diagnostic), 1437 and 360 for the 8x8 digits. Feature values are written
with Python's shortest round-trip repr, so the CSV holds exactly the numbers scikit-learn holds.
"""
import argparse
import csv
import io
import pathlib
import sys

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

ROOT = pathlib.Path(__file__).resolve().parents[2]


def number(value):
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def render(columns, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def export(name, bunch, columns, target_name, label_of, test_size):
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=test_size, stratify=bunch.target, random_state=0
    )
    files = {}
    for split, xs, ys in (("train", x_train, y_train), ("test", x_test, y_test)):
        rows = [[number(v) for v in x] + [label_of(y)] for x, y in zip(xs, ys)]
        files[ROOT / "examples" / "data" / name / f"{split}.csv"] = render(columns + [target_name], rows)
    return files


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = parser.parse_args()

    cancer = load_breast_cancer()
    # Column names without spaces, so they work as tensor names and shell arguments.
    cancer_columns = [c.replace(" ", "_") for c in cancer.feature_names]
    files = export("breast-cancer", cancer, cancer_columns, "target", lambda y: str(int(y)), test_size=114)

    digits = load_digits()
    digit_columns = [f"pixel_{i // 8}_{i % 8}" for i in range(64)]
    files.update(export("digits", digits, digit_columns, "digit", lambda y: str(int(y)), test_size=360))

    different = []
    for path, text in files.items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                different.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if different:
        print("differ from a fresh export: " + ", ".join(different), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
