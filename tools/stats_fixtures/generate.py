#!/usr/bin/env python3
"""Generate the reference fixtures for SlipwayStats from scipy, statsmodels and gbstats.

Run from the repository root:
    python3 tools/stats_fixtures/generate.py Tests/SlipwayStatsTests/Fixtures
Each output file holds a list of cases {"fn": name, "args": {...}, "expected": {...}}.
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import scipy.special as sp
import scipy.stats as st

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/SlipwayStatsTests/Fixtures"
rng = np.random.default_rng(20261127)


def clean(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.ndarray):
        return [clean(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    return v


def write(name, cases):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"source": versions(), "cases": clean(cases)}, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"{name}: {len(cases)} cases")
    return len(cases)


def versions():
    import statsmodels
    import gbstats  # noqa: F401
    from importlib.metadata import version
    return {"scipy": scipy.__version__, "numpy": np.__version__,
            "statsmodels": statsmodels.__version__, "gbstats": version("gbstats")}


# ---------------------------------------------------------------- distributions
def distributions():
    cases = []
    for x in [-38, -37.5, -30, -20, -10, -8.5, -5, -3, -1.96, -1, -0.5, -1e-8, 0, 1e-10, 0.3, 1, 1.644853626951, 2.5, 6, 9, 12.5]:
        cases.append({"fn": "norm.cdf", "args": {"x": x}, "expected": {"value": st.norm.cdf(x)}})
        cases.append({"fn": "norm.sf", "args": {"x": x}, "expected": {"value": st.norm.sf(x)}})
    for p in [1e-300, 1e-200, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.02, 0.025, 0.0243, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.99, 0.999999]:
        cases.append({"fn": "norm.ppf", "args": {"p": p}, "expected": {"value": st.norm.ppf(p)}})
    for q in [1e-300, 1e-50, 1e-12, 0.05]:
        cases.append({"fn": "norm.isf", "args": {"q": q}, "expected": {"value": st.norm.isf(q)}})
    for df in [0.5, 1, 1.5, 2, 2.7, 3, 5, 9.5, 10, 29.3, 30, 100, 1234.5, 1e5, 1e7, 1e9]:
        for t in [-40, -8, -3.5, -2, -1, -0.1, 0, 0.5, 1.7, 2.5, 6, 25, 1e5]:
            cases.append({"fn": "t.cdf", "args": {"t": t, "df": df}, "expected": {"value": st.t.cdf(t, df)}})
        for t in [2.0, 12.0]:
            cases.append({"fn": "t.sf", "args": {"t": t, "df": df}, "expected": {"value": st.t.sf(t, df)}})
        for p in [1e-12, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.995]:
            cases.append({"fn": "t.ppf", "args": {"p": p, "df": df}, "expected": {"value": st.t.ppf(p, df)}})
    for df in [1, 2, 3, 4.5, 10, 50, 333, 1e4, 1e6]:
        for x in [1e-6, 0.1, 1, 3, 10, 40, 100, 500, 2000, 1.05e4, 1e6]:
            cases.append({"fn": "chi2.cdf", "args": {"x": x, "df": df}, "expected": {"value": st.chi2.cdf(x, df)}})
            cases.append({"fn": "chi2.sf", "args": {"x": x, "df": df}, "expected": {"value": st.chi2.sf(x, df)}})
    for a, b in [(0.5, 0.5), (1, 1), (2, 3), (0.1, 20), (20, 0.1), (50, 50), (500, 3), (0.5, 5e8), (5e8, 0.5), (1e4, 2e4), (1e6, 1e6), (3.3, 7.7)]:
        for x in [1e-12, 1e-5, 0.01, 0.1, 0.3, 1/3, 0.5, 0.9, 0.999, 1 - 1e-9]:
            cases.append({"fn": "betainc", "args": {"a": a, "b": b, "x": x}, "expected": {"value": sp.betainc(a, b, x), "complement": sp.betaincc(a, b, x)}})
    for a in [0.1, 0.5, 1, 2.5, 10, 55.5, 1000, 1e5]:
        for x in [1e-8, 0.01, 0.5, 1, 3, 9, 11, 60, 950, 1100, 1.01e5]:
            cases.append({"fn": "gammainc", "args": {"a": a, "x": x}, "expected": {"value": sp.gammainc(a, x), "complement": sp.gammaincc(a, x)}})
    for df in [0.5, 1, 2, 7.5, 30, 1000, 1e5]:
        for p in [1e-10, 0.01, 0.3, 0.5, 0.95, 0.999]:
            cases.append({"fn": "chi2.ppf", "args": {"p": p, "df": df}, "expected": {"value": st.chi2.ppf(p, df)}})
        for q in [1e-100, 1e-12, 0.001]:
            cases.append({"fn": "chi2.isf", "args": {"q": q, "df": df}, "expected": {"value": st.chi2.isf(q, df)}})
    for a, b in [(0.5, 0.5), (1, 1), (2, 3), (0.1, 20), (50, 50), (1001, 9001), (3.3, 0.7)]:
        for p in [1e-8, 0.025, 0.5, 0.975, 0.9999]:
            cases.append({"fn": "beta.ppf", "args": {"p": p, "a": a, "b": b}, "expected": {"value": st.beta.ppf(p, a, b)}})
    for k in [0.3, 1, 4.5, 200]:
        for p in [1e-6, 0.2, 0.5, 0.99]:
            cases.append({"fn": "gamma.ppf", "args": {"p": p, "shape": k}, "expected": {"value": st.gamma.ppf(p, k)}})
    return write("distributions", cases)



def det_sample(n, p1, m, scale, shift):
    """Deterministic sample reproduced bit-for-bit by the Swift tests: ((i*p1) % m)/m*scale + shift."""
    return [((i * p1) % m) / m * scale + shift for i in range(n)]


# ---------------------------------------------------------------- proportions
def proportions():
    from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep
    cases = []
    grid = [(100, 1000, 130, 1000), (5, 50, 9, 52), (0, 30, 3, 30), (1, 10, 0, 12), (499, 500, 500, 500),
            (1000, 10000, 1100, 10000), (50000, 1000000, 50500, 1000000), (1, 1000000000, 3, 1000000000),
            (100000000, 1000000000, 100010000, 1000000000), (123456789, 999999999, 123400000, 1000000000),
            (3, 7, 900, 1000), (10, 100000, 1, 40), (2, 3, 1, 2), (51, 100, 49, 100), (500, 1000, 500, 1000)]
    for _ in range(40):
        n1 = int(10 ** rng.uniform(1, 7)); n2 = int(n1 * 10 ** rng.uniform(-1.5, 1.5)) + 1
        p = rng.uniform(0.001, 0.9)
        s1 = int(rng.binomial(n1, p)); s2 = int(rng.binomial(n2, min(0.999, p * rng.uniform(0.8, 1.3))))
        grid.append((s1, n1, s2, n2))
    for (s1, n1, s2, n2) in grid:
        for alt, smalt in [("two-sided", "two-sided"), ("greater", "larger"), ("less", "smaller")]:
            if alt != "two-sided" and (s1 + s2) % 3 != 0:
                continue
            for alpha in ([0.05, 0.01] if alt == "two-sided" and n1 % 2 == 0 else [0.05]):
                pooled = (s1 + s2) / (n1 + n2)
                if pooled in (0, 1):
                    continue
                z, pv = proportions_ztest([s2, s1], [n2, n1], alternative=smalt)
                lo, hi = confint_proportions_2indep(s2, n2, s1, n1, method="wald", compare="diff", alpha=alpha)
                exp = {"z": z, "p_value": pv, "lift_abs": s2 / n2 - s1 / n1}
                if alt == "two-sided":
                    exp["ci_low"] = lo
                    exp["ci_high"] = hi
                if s1 > 0:
                    exp["lift_rel"] = (s2 / n2 - s1 / n1) / (s1 / n1)
                cases.append({"fn": "proportions", "args": {"s1": s1, "n1": n1, "s2": s2, "n2": n2, "alpha": alpha, "alternative": alt}, "expected": exp})
    return write("proportions", cases)


# ---------------------------------------------------------------- t tests
def ttests():
    cases = []
    samples = []
    samples.append(([1.0, 2.0], [3.0, 5.0]))
    samples.append(([1.0, 1.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0]))
    samples.append(([5.0, 5.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    samples.append((list(np.round(rng.normal(10, 2, 7), 6)), list(np.round(rng.normal(12, 5, 5), 6))))
    for _ in range(30):
        n1 = int(rng.integers(2, 150)); n2 = int(rng.integers(2, 150))
        a = np.round(rng.normal(rng.uniform(-5, 5), rng.uniform(0.1, 10), n1), 5)
        b = np.round(rng.normal(rng.uniform(-5, 5), rng.uniform(0.1, 10), n2), 5)
        samples.append((a.tolist(), b.tolist()))
    samples.append(([1e9 + i for i in range(5)], [1e9 + 2 * i + 0.5 for i in range(6)]))
    samples.append((list(rng.exponential(1, 40)), list(rng.exponential(1.0001, 45))))
    for a, b in samples:
        for equal in [False, True]:
            r = st.ttest_ind(b, a, equal_var=equal)
            ci = r.confidence_interval(0.95)
            cases.append({"fn": "ttest", "args": {"a": a, "b": b, "equal_var": equal},
                          "expected": {"t": r.statistic, "df": r.df, "p_value": r.pvalue, "ci_low": ci.low, "ci_high": ci.high}})
        r = st.ttest_ind(b, a, equal_var=False, alternative="greater")
        cases.append({"fn": "ttest", "args": {"a": a, "b": b, "equal_var": False, "alternative": "greater"},
                      "expected": {"t": r.statistic, "df": r.df, "p_value": r.pvalue, "ci_low": r.confidence_interval(0.9).low}})
    # summaries with very large n (from stats)
    for (m1, s1, n1, m2, s2, n2) in [(10, 2, 1e6, 10.01, 2.1, 1.2e6), (0.1, 0.3, 1e9, 0.10001, 0.3, 1e9), (5, 1, 3, 9, 4, 1e7),
                                     (1, 1, 2, 1, 1, 2), (0, 1, 50, 40, 1, 50)]:
        for equal in [False, True]:
            t, p = st.ttest_ind_from_stats(m2, s2, n2, m1, s1, n1, equal_var=equal)
            if equal:
                df = n1 + n2 - 2
                sp2 = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df
                se = math.sqrt(sp2 * (1 / n1 + 1 / n2))
            else:
                v1 = s1**2 / n1; v2 = s2**2 / n2
                df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
                se = math.sqrt(v1 + v2)
            q = st.t.isf(0.025, df)
            cases.append({"fn": "ttest_summary", "args": {"m1": m1, "s1": s1, "n1": n1, "m2": m2, "s2": s2, "n2": n2, "equal_var": equal},
                          "expected": {"t": t, "p_value": p, "df": df, "ci_low": (m2 - m1) - q * se, "ci_high": (m2 - m1) + q * se}})
    return write("ttests", cases)


# ---------------------------------------------------------------- srm and chi-square
def srm():
    from gbstats.utils import check_srm
    cases = []
    grid = [([5100, 4900], None), ([5000, 5000], None), ([50, 70], None), ([0, 10], None), ([1, 0], None),
            ([1000, 2100], [1 / 3, 2 / 3]), ([100, 100, 100], None), ([120, 100, 80], None), ([10**9, 10**9 + 50000], None),
            ([10**9, 10**9 + 5], None), ([333, 333, 334, 300, 350, 360, 340, 310], None), ([9000, 1000], [0.9, 0.1]),
            ([9400, 600], [0.9, 0.1]), ([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 20], None)]
    for _ in range(26):
        k = int(rng.integers(2, 9))
        w = rng.dirichlet(np.ones(k)); w = w / w.sum()
        n = int(10 ** rng.uniform(2, 8))
        counts = rng.multinomial(n, rng.dirichlet(w * 5000 + 1)).tolist()
        grid.append((counts, w.tolist()))
    for counts, w in grid:
        k = len(counts)
        ww = w if w is not None else [1 / k] * k
        total = sum(counts)
        exp_counts = [x * total for x in ww]
        r = st.chisquare(counts, exp_counts, sdd_check=False) if "sdd_check" in st.chisquare.__code__.co_varnames else st.chisquare(counts, exp_counts)
        g = check_srm(counts, ww)
        cases.append({"fn": "srm", "args": {"counts": counts, "weights": w}, "expected": {"chi2": r.statistic, "p_value": r.pvalue, "gbstats_p": g}})
    return write("srm", cases)


def contingency():
    cases = []
    tables = [[[50, 30, 20], [40, 35, 25]], [[10, 20], [30, 40]], [[1, 0], [0, 1]], [[100, 0], [97, 5]], [[5, 5], [5, 5]],
              [[1000000, 2000000], [1000500, 1999000]], [[12, 5, 7, 7], [5, 2, 6, 9], [0, 3, 2, 1]], [[3], [4]], [[3, 4]]]
    for _ in range(25):
        r = int(rng.integers(2, 5)); c = int(rng.integers(2, 6))
        t = rng.integers(1, int(10 ** rng.uniform(1, 5)), size=(r, c)).tolist()
        tables.append(t)
    for t in tables:
        for corr in ([True, False] if len(t) == 2 and len(t[0]) == 2 else [True]):
            res = st.chi2_contingency(t, correction=corr)
            cases.append({"fn": "chi2", "args": {"table": t, "correction": corr}, "expected": {"chi2": res.statistic, "p_value": res.pvalue, "dof": res.dof}})
    return write("contingency", cases)


# ---------------------------------------------------------------- KS and Kolmogorov
def ks():
    cases = []
    for n, d in [(1, 0.7), (3, 0.2), (3, 0.4), (5, 0.15), (10, 0.05), (10, 0.3), (10, 0.55), (10, 0.95), (20, 0.1), (50, 0.12), (100, 0.08), (140, 0.05),
                 (140, 0.2), (141, 0.05), (200, 0.03), (200, 0.1), (500, 0.04), (1000, 0.01), (1000, 0.05), (5000, 0.01), (5000, 0.02),
                 (5000, 0.05), (20000, 0.005), (20000, 0.012), (100000, 0.001), (100000, 0.004), (100001, 0.0025), (500000, 0.001),
                 (500000, 0.0025), (500000, 0.003), (1000000, 0.0005), (7, 0.1), (30, 0.9), (60, 0.02),
                 (50, 0.2), (100, 0.18), (140, 0.16), (30, 0.35), (100000, 0.0005), (20000, 0.0015), (2, 0.6), (3, 0.9), (141, 0.2), (1000, 0.25)]:
        cases.append({"fn": "kstwo.sf", "args": {"n": n, "d": d}, "expected": {"value": st.kstwo.sf(d, n)}})
    # explicit samples
    for _ in range(40):
        n1 = int(rng.integers(1, 300)); n2 = int(rng.integers(1, 300))
        if rng.uniform() < 0.3:
            n2 = n1
        a = np.round(rng.normal(0, 1, n1), 3)
        b = np.round(rng.normal(rng.uniform(-0.5, 0.5), rng.uniform(0.7, 1.5), n2), 3)
        r = st.ks_2samp(a, b)
        cases.append({"fn": "ks", "args": {"a": a.tolist(), "b": b.tolist()}, "expected": {"d": r.statistic, "p_value": r.pvalue}})
    # one-sided alternatives; cases where scipy's exact path count overflows (it then warns and falls
    # back to an approximation while Slipway stays exact) are left out.
    import warnings
    for _ in range(40):
        n1 = int(rng.integers(1, 400)); n2 = int(rng.integers(1, 400))
        if rng.uniform() < 0.3:
            n2 = n1
        a = np.round(rng.normal(0, 1, n1), 4)
        b = np.round(rng.normal(rng.uniform(-0.6, 0.6), 1, n2), 4)
        for alt in ["less", "greater"]:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    r = st.ks_2samp(a, b, alternative=alt)
                except RuntimeWarning:
                    continue
            cases.append({"fn": "ks", "args": {"a": a.tolist(), "b": b.tolist(), "alternative": alt}, "expected": {"d": r.statistic, "p_value": r.pvalue}})
    for n1, n2, shift, alt in [(20000, 15000, 0.004, "less"), (20000, 15000, -0.004, "greater"), (30000, 30000, 0.01, "less"), (12000, 700, 0.04, "greater")]:
        a = det_sample(n1, 7919, 10007, 1.0, 0.0); b = det_sample(n2, 104729, 99991, 1.0, shift)
        r = st.ks_2samp(a, b, alternative=alt)
        cases.append({"fn": "ks_det", "args": {"a": [n1, 7919, 10007, 1.0, 0.0], "b": [n2, 104729, 99991, 1.0, shift], "alternative": alt},
                      "expected": {"d": r.statistic, "p_value": r.pvalue}})
    for a, b in [([1.0], [2.0]), ([1.0, 1.0, 1.0], [1.0, 1.0]), ([0.0, 1, 2, 3, 4], [5.0, 6, 7, 8, 9]), ([1.0, 2, 3], [1.0, 2, 3])]:
        r = st.ks_2samp(a, b)
        cases.append({"fn": "ks", "args": {"a": a, "b": b}, "expected": {"d": r.statistic, "p_value": r.pvalue}})
    # deterministic larger samples (exact up to 10,000, asymptotic above)
    for (n1, p1, m1, sc1, sh1, n2, p2, m2, sc2, sh2) in [
            (3000, 7919, 10007, 1.0, 0.0, 2500, 104729, 99991, 1.0, 0.01),
            (10000, 7919, 10007, 1.0, 0.0, 9000, 104729, 99991, 1.02, 0.0),
            (10000, 7919, 10007, 1.0, 0.0, 10000, 104729, 99991, 1.0, 0.015),
            (20000, 7919, 10007, 1.0, 0.0, 15000, 104729, 99991, 1.0, 0.005),
            (50000, 7919, 65537, 1.0, 0.0, 60000, 104729, 99991, 1.0, 0.003),
            (200000, 7919, 65537, 1.0, 0.0, 150000, 104729, 99991, 1.0, 0.0035),
            (200000, 7919, 65537, 1.0, 0.0, 20, 104729, 99991, 1.0, 0.1),
            (12000, 7919, 10007, 1.0, 0.0, 700, 104729, 99991, 1.0, 0.04)]:
        a = det_sample(n1, p1, m1, sc1, sh1); b = det_sample(n2, p2, m2, sc2, sh2)
        r = st.ks_2samp(a, b)
        cases.append({"fn": "ks_det", "args": {"a": [n1, p1, m1, sc1, sh1], "b": [n2, p2, m2, sc2, sh2]}, "expected": {"d": r.statistic, "p_value": r.pvalue}})
    return write("ks", cases)


# ---------------------------------------------------------------- Mann-Whitney and Hodges-Lehmann
def hl_reference(a, b, alpha=0.05):
    d = np.sort(np.subtract.outer(np.asarray(b, float), np.asarray(a, float)).ravel())
    N = len(d)
    z = st.norm.isf(alpha / 2)
    k = int(math.floor(N / 2 - z * math.sqrt(len(a) * len(b) * (len(a) + len(b) + 1) / 12)))
    k = max(1, min(k, N))
    return float(np.median(d)), float(d[k - 1]), float(d[N - k])


def mannwhitney():
    cases = []
    samples = [([1.0, 2, 3], [4.0, 5, 6]), ([1.0, 2, 3, 4, 5, 6, 7, 8], [2.5, 9, 10]), ([1.0] * 5, [1.0, 2.0]), ([3.0, 1, 2], [2.0, 2, 2, 5]),
               ([0.5], [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2]), ([1.0, 2.0], [3.0])]
    for _ in range(45):
        n1 = int(rng.integers(1, 60)); n2 = int(rng.integers(1, 60))
        if rng.uniform() < 0.4:
            n1 = int(rng.integers(1, 9))
        ties = rng.uniform() < 0.3
        a = rng.normal(0, 1, n1); b = rng.normal(rng.uniform(-1, 1), 1, n2)
        if ties:
            a = np.round(a, 0); b = np.round(b, 0)
        else:
            a = np.round(a, 6); b = np.round(b, 6)
        samples.append((a.tolist(), b.tolist()))
    samples.append((np.round(rng.normal(0, 1, 8), 6).tolist(), np.round(rng.normal(0.2, 1, 400), 6).tolist()))
    samples.append((np.round(rng.lognormal(0, 1, 3000), 4).tolist(), np.round(rng.lognormal(0.05, 1, 2500), 4).tolist()))
    for a, b in samples:
        for alt in ["two-sided", "greater", "less"]:
            if alt != "two-sided" and len(a) % 2 == 0:
                continue
            r = st.mannwhitneyu(b, a, alternative=alt)
            exp = {"u": r.statistic, "p_value": r.pvalue}
            if alt == "two-sided" and len(a) * len(b) <= 200000:
                hl, lo, hi = hl_reference(a, b)
                exp.update({"hodges_lehmann": hl, "hl_low": lo, "hl_high": hi})
            cases.append({"fn": "mannwhitney", "args": {"a": a, "b": b, "alternative": alt}, "expected": exp})
    return write("mannwhitney", cases)


# ---------------------------------------------------------------- power and corrections
def power():
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize
    cases = []
    pw = NormalIndPower()
    from scipy.optimize import brentq

    def solve_n(h, alpha, power_, ratio, alt):
        # statsmodels' own power function, solved to full precision (its solve_power stops near 1e-9).
        start = pw.solve_power(effect_size=h, alpha=alpha, power=power_, ratio=ratio, alternative=alt)
        f = lambda n: pw.power(h, n, alpha, ratio=ratio, alternative=alt) - power_
        lo, hi = start * 0.9, start * 1.1
        return brentq(f, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500) if f(lo) * f(hi) < 0 else start

    def solve_d(n1, alpha, power_):
        start = pw.solve_power(nobs1=n1, alpha=alpha, power=power_, ratio=1)
        f = lambda d: pw.power(d, n1, alpha, ratio=1) - power_
        return brentq(f, start * 0.9, start * 1.1, xtol=1e-17, rtol=1e-15, maxiter=500)
    for base, mde, rel, alpha, power_, ratio in [(0.10, 0.01, False, 0.05, 0.8, 1), (0.10, 0.1, True, 0.05, 0.8, 1), (0.5, 0.05, False, 0.05, 0.9, 1),
                                                 (0.02, 0.001, False, 0.01, 0.8, 1), (0.3, -0.03, False, 0.05, 0.8, 1), (0.9, 0.05, False, 0.1, 0.95, 1),
                                                 (0.001, 0.5, True, 0.05, 0.8, 1), (0.2, 0.02, False, 0.05, 0.8, 2), (0.2, 0.02, False, 0.05, 0.8, 0.25),
                                                 (0.6, 0.2, True, 0.001, 0.99, 1), (0.05, 0.0001, False, 0.05, 0.8, 1)]:
        p2 = base * (1 + mde) if rel else base + mde
        h = proportion_effectsize(p2, base)
        n = solve_n(abs(h), alpha, power_, ratio, "two-sided")
        cases.append({"fn": "power.proportions", "args": {"baseline": base, "mde": mde, "relative": rel, "alpha": alpha, "power": power_, "ratio": ratio},
                      "expected": {"n_per_arm": n, "effect_size": h}})
    for d, alpha, power_ in [(0.1, 0.05, 0.8), (0.5, 0.05, 0.8), (0.02, 0.01, 0.9), (1.5, 0.1, 0.5)]:
        for alt, smalt in [("two-sided", "two-sided"), ("greater", "larger")]:
            n = solve_n(d, alpha, power_, 1, smalt)
            if not np.isfinite(n):
                continue
            cases.append({"fn": "power.effect", "args": {"d": d, "alpha": alpha, "power": power_, "alternative": alt}, "expected": {"n_per_arm": n}})
    for d, n1, alpha in [(0.1, 1000, 0.05), (0.05, 20000, 0.01), (0.3, 50, 0.05), (0.01, 1e6, 0.05)]:
        cases.append({"fn": "power.power", "args": {"d": d, "n1": n1, "alpha": alpha}, "expected": {"power": pw.power(d, n1, alpha, ratio=1)}})
        eff = solve_d(n1, alpha, 0.8)
        if not np.isfinite(eff):  # statsmodels' root finder gave up; nothing to compare with
            continue
        cases.append({"fn": "power.mde", "args": {"n1": n1, "alpha": alpha, "power": 0.8}, "expected": {"effect_size": eff}})
    return write("power", cases)


def corrections():
    from statsmodels.stats.multitest import multipletests
    cases = []
    lists = [[0.01, 0.04, 0.03], [0.5], [0.0, 1.0], [0.05, 0.05, 0.05, 0.05], [1e-300, 1e-10, 0.2, 0.8, 0.9999]]
    for _ in range(20):
        k = int(rng.integers(2, 40))
        p = rng.beta(0.4, 2, k)
        if rng.uniform() < 0.3:
            p[: k // 3] = p[0]
        lists.append(p.tolist())
    for p in lists:
        for method, sm in [("holm", "holm"), ("bh", "fdr_bh")]:
            adj = multipletests(p, method=sm)[1]
            cases.append({"fn": "correct", "args": {"method": method, "p": p}, "expected": {"adjusted": adj}})
    return write("corrections", cases)


# ---------------------------------------------------------------- divergences, Wasserstein, binning
def divergence():
    from scipy.spatial.distance import jensenshannon
    cases = []
    vecs = [([0.1, 0.2, 0.7], [0.2, 0.2, 0.6]), ([0.5, 0.5], [0.5, 0.5]), ([1, 0, 0], [0, 0, 1]), ([10, 20, 0, 5], [12, 18, 3, 0]),
            ([0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1])]
    for _ in range(30):
        k = int(rng.integers(2, 20))
        p = rng.dirichlet(np.ones(k) * rng.uniform(0.2, 3)); q = rng.dirichlet(np.ones(k) * rng.uniform(0.2, 3))
        if rng.uniform() < 0.4:
            p[rng.integers(0, k)] = 0
        if rng.uniform() < 0.4:
            q[rng.integers(0, k)] = 0
        scale = 1 if rng.uniform() < 0.5 else 1000
        vecs.append(((p * scale).tolist(), (q * scale).tolist()))
    for ref, cur in vecs:
        r = np.asarray(ref, float) / np.sum(ref); c = np.asarray(cur, float) / np.sum(cur)
        rf = r.copy(); cf = c.copy()
        np.place(rf, rf == 0, 0.0001); np.place(cf, cf == 0, 0.0001)
        psi = float(np.sum((rf - cf) * np.log(rf / cf)))
        kl = float(st.entropy(rf, cf))
        cases.append({"fn": "divergence", "args": {"ref": ref, "cur": cur},
                      "expected": {"psi": psi, "kl": kl, "js": jensenshannon(r, c), "js_base2": jensenshannon(r, c, base=2)}})
    for _ in range(20):
        n1 = int(rng.integers(1, 400)); n2 = int(rng.integers(1, 400))
        a = np.round(rng.normal(0, 1, n1), 4); b = np.round(rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 2), n2), 4)
        sd = max(np.std(a), 0.001)
        w = st.wasserstein_distance(a, b)
        cases.append({"fn": "wasserstein", "args": {"a": a.tolist(), "b": b.tolist()}, "expected": {"value": w, "normed": w / sd}})
    for _ in range(12):
        n = int(rng.integers(3, 500))
        x = np.round(rng.gamma(rng.uniform(0.5, 5), 1, n), 4)
        for method in ["sturges", "doane"]:
            e = np.histogram_bin_edges(x, bins=method)
            cnt = np.histogram(x, bins=e)[0]
            cases.append({"fn": "binning", "args": {"x": x.tolist(), "method": method}, "expected": {"edges": e, "counts": cnt}})
        k = int(rng.integers(2, 12))
        e = np.quantile(x, np.linspace(0, 1, k + 1))
        cases.append({"fn": "binning", "args": {"x": x.tolist(), "method": "quantiles", "bins": k}, "expected": {"edges": e}})
    return write("divergence", cases)


# ---------------------------------------------------------------- gbstats
def gb():
    from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic, RatioStatistic, RegressionAdjustedStatistic
    from gbstats.frequentist.tests import TwoSidedTTest, OneSidedTreatmentGreaterTTest, SequentialTwoSidedTTest, FrequentistConfig, SequentialConfig
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
    cases = []

    def arms():
        out = []
        for s1, n1, s2, n2 in [(100, 1000, 120, 1000), (5, 40, 9, 41), (3000, 100000, 3100, 100000), (50, 10**9 // 1000, 55, 10**9 // 1000),
                               (400, 900, 380, 1100), (10000000, 100000000, 10010000, 100000000)]:
            out.append(("proportion", {"s1": s1, "n1": n1, "s2": s2, "n2": n2}, ProportionStatistic(n=n1, sum=s1), ProportionStatistic(n=n2, sum=s2)))
        for _ in range(6):
            n1 = int(10 ** rng.uniform(1, 6)); n2 = int(n1 * rng.uniform(0.7, 1.3)) + 2
            m1 = rng.uniform(1, 100); m2 = m1 * rng.uniform(0.9, 1.1); sd1 = rng.uniform(0.5, 30); sd2 = sd1 * rng.uniform(0.8, 1.2)
            sum1 = m1 * n1; sum2 = m2 * n2
            ss1 = (sd1**2) * (n1 - 1) + sum1**2 / n1; ss2 = (sd2**2) * (n2 - 1) + sum2**2 / n2
            out.append(("mean", {"n1": n1, "sum1": sum1, "ss1": ss1, "n2": n2, "sum2": sum2, "ss2": ss2},
                        SampleMeanStatistic(n=n1, sum=sum1, sum_squares=ss1), SampleMeanStatistic(n=n2, sum=sum2, sum_squares=ss2)))
        for _ in range(4):
            def ratio_stat(n, shift):
                d = rng.poisson(3, n) + 1.0; m = d * rng.uniform(1.5, 2.5) + rng.normal(shift, 1, n)
                return {"n": n, "m_sum": float(m.sum()), "m_ss": float((m**2).sum()), "d_sum": float(d.sum()), "d_ss": float((d**2).sum()), "md": float((m * d).sum())}
            r1 = ratio_stat(int(rng.integers(50, 3000)), 0.0); r2 = ratio_stat(int(rng.integers(50, 3000)), 0.3)
            def mk(r):
                return RatioStatistic(n=r["n"], m_statistic=SampleMeanStatistic(n=r["n"], sum=r["m_sum"], sum_squares=r["m_ss"]),
                                      d_statistic=SampleMeanStatistic(n=r["n"], sum=r["d_sum"], sum_squares=r["d_ss"]), m_d_sum_of_products=r["md"])
            out.append(("ratio", {"a": r1, "b": r2}, mk(r1), mk(r2)))
        for _ in range(4):
            def ra_stat(n, shift):
                pre = rng.normal(10, 3, n); post = 0.8 * pre + rng.normal(shift, 2, n)
                return {"n": n, "post_sum": float(post.sum()), "post_ss": float((post**2).sum()), "pre_sum": float(pre.sum()),
                        "pre_ss": float((pre**2).sum()), "pp": float((post * pre).sum())}
            r1 = ra_stat(int(rng.integers(50, 5000)), 2.0); r2 = ra_stat(int(rng.integers(50, 5000)), 2.2)
            def mk(r):
                return RegressionAdjustedStatistic(n=r["n"], post_statistic=SampleMeanStatistic(n=r["n"], sum=r["post_sum"], sum_squares=r["post_ss"]),
                                                   pre_statistic=SampleMeanStatistic(n=r["n"], sum=r["pre_sum"], sum_squares=r["pre_ss"]),
                                                   post_pre_sum_of_products=r["pp"], theta=0)
            out.append(("cuped", {"a": r1, "b": r2}, mk(r1), mk(r2)))
        return out

    for kind, args, a, b in arms():
        for diff in ["relative", "absolute"]:
            base = {"kind": kind, "data": args, "scale": diff}
            r = TwoSidedTTest(a, b, FrequentistConfig(difference_type=diff)).compute_result()
            cases.append({"fn": "gb.ttest", "args": dict(base, alternative="two-sided"),
                          "expected": {"estimate": r.expected, "ci_low": r.ci[0], "ci_high": r.ci[1], "p_value": r.p_value, "se": r.uplift.stddev}})
            r = OneSidedTreatmentGreaterTTest(a, b, FrequentistConfig(difference_type=diff, alpha=0.1)).compute_result()
            cases.append({"fn": "gb.ttest", "args": dict(base, alternative="greater", alpha=0.1),
                          "expected": {"estimate": r.expected, "ci_low": r.ci[0], "p_value": r.p_value}})
            for tuning in [5000, 200]:
                r = SequentialTwoSidedTTest(a, b, SequentialConfig(difference_type=diff, sequential_tuning_parameter=tuning)).compute_result()
                cases.append({"fn": "gb.sequential", "args": dict(base, tuning=tuning),
                              "expected": {"estimate": r.expected, "ci_low": r.ci[0], "ci_high": r.ci[1], "p_value": r.p_value}})
            for prior in [None, (0.0, 0.09), (0.05, 0.01)]:
                if prior is None:
                    cfg = EffectBayesianConfig(difference_type=diff)
                else:
                    pm, pv = prior
                    if diff == "absolute":
                        cfg = EffectBayesianConfig(difference_type=diff, prior_type="absolute", prior_effect=GaussianPrior(mean=pm, variance=pv, proper=True))
                    else:
                        cfg = EffectBayesianConfig(difference_type=diff, prior_effect=GaussianPrior(mean=pm, variance=pv, proper=True))
                r = EffectBayesianABTest(a, b, cfg).compute_result()
                cases.append({"fn": "gb.bayes", "args": dict(base, prior=list(prior) if prior else None),
                              "expected": {"chance_to_win": r.chance_to_win, "ci_low": r.ci[0], "ci_high": r.ci[1], "risk_control": r.risk[0],
                                           "risk_treatment": r.risk[1], "mean": r.expected}})
            if kind == "proportion" and diff == "relative":
                r = EffectBayesianABTest(a, b, EffectBayesianConfig(inverse=True)).compute_result()
                cases.append({"fn": "gb.bayes", "args": dict(base, prior=None, inverse=True),
                              "expected": {"chance_to_win": r.chance_to_win, "risk_control": r.risk[0], "risk_treatment": r.risk[1]}})
    return write("gbstats", cases)


def beta_binomial():
    import mpmath as mp
    mp.mp.dps = 50
    cases = []

    def p_greater(a1, b1, a2, b2):
        # P(X > Y), X ~ Beta(a1, b1), Y ~ Beta(a2, b2), exact sum in high precision (a1 integer).
        tot = mp.mpf(0)
        for i in range(int(a1)):
            tot += mp.beta(a2 + i, b1 + b2) / ((b1 + i) * mp.beta(1 + i, b1) * mp.beta(a2, b2))
        return tot

    for s1, n1, s2, n2 in [(10, 100, 15, 100), (0, 10, 0, 10), (1, 2, 2, 2), (120, 1000, 100, 1000), (50, 500, 70, 520), (3, 300, 9, 280), (400, 1000, 420, 1000)]:
        aA, bA, aB, bB = 1 + s1, 1 + n1 - s1, 1 + s2, 1 + n2 - s2
        win = p_greater(aB, bB, aA, bA)
        mA = mp.mpf(aA) / (aA + bA); mB = mp.mpf(aB) / (aB + bB)
        gainB = mB * p_greater(aB + 1, bB, aA, bA) - mA * p_greater(aB, bB, aA + 1, bA)
        gainA = mA * p_greater(aA + 1, bA, aB, bB) - mB * p_greater(aA, bA, aB + 1, bB)
        cases.append({"fn": "betabinomial", "args": {"s1": s1, "n1": n1, "s2": s2, "n2": n2},
                      "expected": {"chance_to_win": float(win), "risk_control": float(gainB), "risk_treatment": float(gainA)}})
    # Non-integer posterior shapes (Jeffreys prior) take the numerical-integration path in Slipway;
    # the reference integrates f_B(x)·F_A(x) in 50-digit arithmetic, split around the posterior mean.
    def p_greater_quad(a1, b1, a2, b2):
        mean = mp.mpf(a1) / (a1 + b1)
        sd = mp.sqrt(mean * (1 - mean) / (a1 + b1 + 1))
        pts = sorted({mp.mpf(0), mp.mpf(1)} | {min(1 - mp.mpf(10) ** -30, max(mp.mpf(10) ** -30, mean + k * sd)) for k in (-8, -4, -2, -1, 0, 1, 2, 4, 8)})
        f = lambda x: x ** (a1 - 1) * (1 - x) ** (b1 - 1) / mp.beta(a1, b1) * mp.betainc(a2, b2, 0, x, regularized=True)
        return mp.quad(f, pts)

    def p_greater_scipy(a1, b1, a2, b2):
        # Large shapes: scipy's beta density and incomplete beta, integrated over ±12 sd in 48 pieces.
        from scipy.integrate import quad
        mean = a1 / (a1 + b1)
        sd = math.sqrt(mean * (1 - mean) / (a1 + b1 + 1))
        edges = np.linspace(max(0.0, mean - 12 * sd), min(1.0, mean + 12 * sd), 49)
        f = lambda x: st.beta.pdf(x, a1, b1) * sp.betainc(a2, b2, x)
        return sum(quad(f, lo, hi, epsabs=0, epsrel=1.2e-14, limit=200)[0] for lo, hi in zip(edges[:-1], edges[1:]))

    for s1, n1, s2, n2, prior in [(10, 100, 15, 100, 0.5), (120, 1000, 100, 1000, 0.5), (3, 30, 7, 28, 0.5),
                                  (1_000_000, 10_000_000, 1_001_000, 10_000_000, 1), (250_000, 1_000_000, 249_000, 1_000_000, 1)]:
        aA, bA, aB, bB = prior + s1, prior + n1 - s1, prior + s2, prior + n2 - s2
        win = p_greater_quad(aB, bB, aA, bA) if n1 < 10_000 else p_greater_scipy(aB, bB, aA, bA)
        cases.append({"fn": "betabinomial", "args": {"s1": s1, "n1": n1, "s2": s2, "n2": n2, "prior": prior},
                      "expected": {"chance_to_win": float(win)}})
    return write("betabinomial", cases)


# ---------------------------------------------------------------- bucketing
def bucketing():
    import mmh3
    from growthbook.core import gbhash, fnv1a32, getBucketRanges, chooseVariation
    cases = []
    pairs = [("", "a"), ("", "b"), ("b", "a"), ("ef", "d"), ("asdf", "8952klfjas09ujkasdf"), ("", "123"), ("", '___)((*":&'),
             ("seed", "a"), ("seed", "b"), ("foo", "ab"), ("foo", "def"), ("89123klj", "8952klfjas09ujkasdf"), ("90850943850193124", "123"),
             ("exp-1", "user-123"), ("checkout-redesign", "0f3b2c1e-7a5d-4c1b-9e2f-1234567890ab"), ("ünïcødé", "ü"), ("€uro", "日本語")]
    for i in range(40):
        pairs.append((f"exp-{int(rng.integers(0, 10**6))}", f"user-{int(rng.integers(0, 10**9))}"))
    for seed, value in pairs:
        cases.append({"fn": "gbhash", "args": {"seed": seed, "value": value},
                      "expected": {"v1": gbhash(seed, value, 1), "v2": gbhash(seed, value, 2), "fnv": fnv1a32(seed + value)}})
    for key in ["", "a", "ab", "abc", "abcd", "abcde", "hello, world", "user-123", "日本語テキスト", "The quick brown fox jumps over the lazy dog"]:
        for seed in [0, 1, 42, 0xFFFFFFFF]:
            cases.append({"fn": "murmur3", "args": {"key": key, "seed": seed}, "expected": {"hash": mmh3.hash(key, seed, signed=False)}})
    for n, cov, w in [(2, 1, None), (3, 0.5, None), (2, 1, [0.9, 0.1]), (4, 0.8, [0.1, 0.2, 0.3, 0.4])]:
        ranges = getBucketRanges(n, cov, w)
        picks = [chooseVariation(h, ranges) for h in [0.0, 0.05, 0.33, 0.5, 0.77, 0.95, 0.9999]]
        cases.append({"fn": "ranges", "args": {"n": n, "coverage": cov, "weights": w}, "expected": {"ranges": [list(r) for r in ranges], "picks": picks}})
    return write("bucketing", cases)



# ---------------------------------------------------------------- extremes
def extremes():
    """p-values near 0 and 1, n up to 1e9, extreme imbalance, many arms, ties and zero variance."""
    from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep
    cases = []
    for s1, n1, s2, n2 in [(1000, 10**6, 3000, 10**6), (10**8, 10**9, 10**8 + 200000, 10**9), (100000, 10**9, 100001, 10**9),
                           (5, 100, 50_000_000, 10**9), (0, 1, 1, 1), (1, 2, 1, 2), (999_999_999, 10**9, 10**9 - 2, 10**9),
                           (3, 10**9, 300, 10**9), (50, 100, 10, 10**9)]:
        # statsmodels' formulas, evaluated in 50-digit arithmetic: in double precision they lose up to
        # 1e-7 relative when both rates are within 1e-9 of 1 (p1 - p2 cancels).
        import mpmath as mp
        mp.mp.dps = 50
        P1, P2 = mp.mpf(s1) / n1, mp.mpf(s2) / n2
        pooled = mp.mpf(s1 + s2) / (n1 + n2)
        z = (P2 - P1) / mp.sqrt(pooled * (1 - pooled) * (mp.mpf(1) / n1 + mp.mpf(1) / n2))
        pv = mp.erfc(abs(z) / mp.sqrt(2))
        se = mp.sqrt(P1 * (1 - P1) / n1 + P2 * (1 - P2) / n2)
        q = mp.sqrt(2) * mp.erfinv(mp.mpf(0.95))
        z_sm, pv_sm = proportions_ztest([s2, s1], [n2, n1])
        assert abs(float(z) - z_sm) <= 1e-6 * abs(float(z)) + 1e-12, (s1, n1, s2, n2)
        exp = {"z": float(z), "p_value": float(pv), "ci_low": float(P2 - P1 - q * se), "ci_high": float(P2 - P1 + q * se), "lift_abs": float(P2 - P1)}
        if s1 > 0:
            exp["lift_rel"] = float((P2 - P1) / P1)
        cases.append({"fn": "proportions", "args": {"s1": s1, "n1": n1, "s2": s2, "n2": n2, "alpha": 0.05, "alternative": "two-sided"}, "expected": exp})
    base = [float(i % 10) for i in range(40)]
    for a, b in [(base, [x + 100 for x in base]), (base, [x + 0.01 * (i % 3) for i, x in enumerate(base)]), ([0.0, 0.0, 0.0], [1.0, 2.0, 4.0]),
                 ([1.0, 2.0], [1.0, 2.0]), (list(range(1000)), [x + 0.5 for x in range(1000)])]:
        for equal in [False, True]:
            r = st.ttest_ind(b, a, equal_var=equal)
            ci = r.confidence_interval(0.95)
            cases.append({"fn": "ttest", "args": {"a": a, "b": b, "equal_var": equal},
                          "expected": {"t": r.statistic, "df": r.df, "p_value": r.pvalue, "ci_low": ci.low, "ci_high": ci.high}})
    from gbstats.utils import check_srm
    for counts in [[5000, 4000], [10**9, 10**9 - 10], [1000] * 19 + [1200], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [10**6, 1]]:
        k = len(counts); w = [1 / k] * k; total = sum(counts)
        r = st.chisquare(counts, [x * total for x in w])
        cases.append({"fn": "srm", "args": {"counts": counts, "weights": None}, "expected": {"chi2": r.statistic, "p_value": r.pvalue, "gbstats_p": check_srm(counts, w)}})
    for n1, n2, shift in [(500, 500, 10.0), (300, 400, 10.0), (60, 60, 0.0), (1, 10000, 0.5), (2, 3, 0.0), (10000, 10000, 10.0), (9999, 10000, 0.01)]:
        a = [i / n1 for i in range(n1)]; b = [i / n2 + shift for i in range(n2)]
        r = st.ks_2samp(a, b)
        cases.append({"fn": "ks", "args": {"a": a, "b": b}, "expected": {"d": r.statistic, "p_value": r.pvalue}}) if n1 + n2 <= 3000 else \
            cases.append({"fn": "ks_det", "args": {"a": [n1, 1, n1, 1.0, 0.0], "b": [n2, 1, n2, 1.0, shift]}, "expected": {"d": r.statistic, "p_value": r.pvalue}})
    for a, b in [([float(i) for i in range(200)], [float(i) + 1000 for i in range(200)]), ([1.0] * 30 + [2.0], [2.0] * 30 + [1.0]),
                 ([float(i) for i in range(8)], [float(i) + 100 for i in range(3000)]), ([5.0], [1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0])]:
        r = st.mannwhitneyu(b, a)
        hl, lo, hi = hl_reference(a, b)
        cases.append({"fn": "mannwhitney", "args": {"a": a, "b": b, "alternative": "two-sided"},
                      "expected": {"u": r.statistic, "p_value": r.pvalue, "hodges_lehmann": hl, "hl_low": lo, "hl_high": hi}})
    for t in [[[10**7, 2 * 10**7], [2 * 10**7, 10**7]], [[1, 2], [3, 4]], [[0, 5], [5, 0]], [[500] * 12, [510] * 12, [490] * 12]]:
        res = st.chi2_contingency(t)
        cases.append({"fn": "chi2", "args": {"table": t, "correction": True}, "expected": {"chi2": res.statistic, "p_value": res.pvalue, "dof": res.dof}})
    return write("extremes", cases)

if __name__ == "__main__":
    total = 0
    for fn in [distributions, proportions, ttests, srm, contingency, ks, mannwhitney, power, corrections, divergence, gb, beta_binomial, bucketing, extremes]:
        total += fn()
    print("total", total)
