#!/usr/bin/env python3
"""Reference drift statistics for `slipway data validate`, computed with scipy on the breast-cancer example.

The data set is examples/data/breast-cancer/train.csv (reference, 455 rows) and test.csv (current, 114 rows).
Printed as JSON on stdout; tools/data_fixtures/generate.sh writes it to drift_fixtures.json.

- ks: scipy.stats.ks_2samp(reference, current) p-value (method "auto": exact at these sizes).
- wasserstein_norm: scipy.stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001).
- jensenshannon: scipy.spatial.distance.jensenshannon of the label shares (natural log).
- z_test: the pooled two-proportion z-test on the share of the first label (sorted), two-sided.
"""
import csv
import json
import math

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance


def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


reference = load("examples/data/breast-cancer/train.csv")
current = load("examples/data/breast-cancer/test.csv")
numerical = ["mean_radius", "mean_texture", "worst_area", "smoothness_error"]
cases = []
for column in numerical:
    r = np.array([float(row[column]) for row in reference])
    c = np.array([float(row[column]) for row in current])
    cases.append({"column": column, "statistic": "ks_p_value", "value": float(stats.ks_2samp(r, c).pvalue)})
    w = stats.wasserstein_distance(r, c) / max(float(np.std(r)), 0.001)
    cases.append({"column": column, "statistic": "wasserstein_distance_norm", "value": float(w)})

labels = sorted({row["target"] for row in reference} | {row["target"] for row in current})
rc = np.array([sum(1 for row in reference if row["target"] == label) for label in labels], dtype=float)
cc = np.array([sum(1 for row in current if row["target"] == label) for label in labels], dtype=float)
cases.append({"column": "target", "statistic": "jensenshannon_distance", "value": float(distance.jensenshannon(rc / rc.sum(), cc / cc.sum()))})
p1, p2 = rc[0] / rc.sum(), cc[0] / cc.sum()
pooled = (rc[0] + cc[0]) / (rc.sum() + cc.sum())
se = math.sqrt(pooled * (1 - pooled) * (1 / rc.sum() + 1 / cc.sum()))
z = (p2 - p1) / se
cases.append({"column": "target", "statistic": "z_test_p_value", "value": float(2 * stats.norm.sf(abs(z)))})

print(json.dumps({"generator": f"scipy {scipy.__version__}, numpy {np.__version__}", "cases": cases}, indent=2))
