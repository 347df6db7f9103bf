#!/usr/bin/env python3
"""Prints the scikit-learn metric values that Tests/SlipwayModelsTests/MetricsTests.swift holds as fixtures.

Run once (in an environment with scikit-learn) and paste the output into the tests when the
predictions below change:

    python3 tools/model_fixtures/generate.py

The predictions are fixed by hand and include ties, so the rank handling of ROC AUC is covered.
"""
import sklearn
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

# Binary: class "1" is the positive class; p is the probability of class 1.
BINARY_TRUTH = [0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1]
BINARY_P1 = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.4, 0.65, 0.99, 0.02, 0.55, 0.3]

# Three classes, rows sum to 1.
MULTI_TRUTH = [0, 1, 2, 2, 1, 0, 2, 1, 0, 2]
MULTI_PROBA = [
    [0.7, 0.2, 0.1],
    [0.2, 0.5, 0.3],
    [0.1, 0.3, 0.6],
    [0.3, 0.4, 0.3],
    [0.25, 0.25, 0.5],
    [0.5, 0.3, 0.2],
    [0.05, 0.05, 0.9],
    [0.1, 0.8, 0.1],
    [0.4, 0.4, 0.2],
    [0.2, 0.2, 0.6],
]


def argmax(row):
    return max(range(len(row)), key=lambda k: (row[k], -k))


def main():
    print(f"// scikit-learn {sklearn.__version__}")
    predicted = [1 if p > 0.5 else 0 for p in BINARY_P1]
    proba = [[1 - p, p] for p in BINARY_P1]
    print("binary:")
    print(f"  accuracy  = {accuracy_score(BINARY_TRUTH, predicted)!r}")
    print(f"  precision = {precision_score(BINARY_TRUTH, predicted)!r}")
    print(f"  recall    = {recall_score(BINARY_TRUTH, predicted)!r}")
    print(f"  f1        = {f1_score(BINARY_TRUTH, predicted)!r}")
    print(f"  roc_auc   = {roc_auc_score(BINARY_TRUTH, BINARY_P1)!r}")
    print(f"  log_loss  = {log_loss(BINARY_TRUTH, proba)!r}")
    print(f"  confusion = {confusion_matrix(BINARY_TRUTH, predicted).tolist()}")
    predicted = [argmax(row) for row in MULTI_PROBA]
    print("multiclass:")
    print(f"  accuracy  = {accuracy_score(MULTI_TRUTH, predicted)!r}")
    print(f"  precision = {precision_score(MULTI_TRUTH, predicted, average='macro', zero_division=0)!r}")
    print(f"  recall    = {recall_score(MULTI_TRUTH, predicted, average='macro', zero_division=0)!r}")
    print(f"  f1        = {f1_score(MULTI_TRUTH, predicted, average='macro', zero_division=0)!r}")
    print(f"  roc_auc   = {roc_auc_score(MULTI_TRUTH, MULTI_PROBA, multi_class='ovr', average='macro')!r}")
    print(f"  log_loss  = {log_loss(MULTI_TRUTH, MULTI_PROBA)!r}")
    print(f"  confusion = {confusion_matrix(MULTI_TRUTH, predicted).tolist()}")
    print(f"  per-class f1 = {f1_score(MULTI_TRUTH, predicted, average=None, zero_division=0).tolist()!r}")


if __name__ == "__main__":
    main()
