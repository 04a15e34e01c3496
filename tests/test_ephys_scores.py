"""Scores of a simulation against a recording (le_brian.ephys_scores): Cohen's d with its
confidence interval and the Wasserstein distance against closed forms, hand-computed
examples and seeded samples of known effect; the comparison figure's panels."""

import warnings

import numpy as np
import pytest

from le_brian.ephys_scores import cohens_d, compare_statistics, wasserstein

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal distribution


def _d_numpy(a, b):
    """Cohen's d written out independently (pooled unbiased variances)."""
    na, nb = len(a), len(b)
    pooled = ((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2)
    return (np.mean(a) - np.mean(b)) / np.sqrt(pooled)


def test_hand_computed_example():
    """a = [1, 2, 3], b = [2, 3, 4]: b is a shifted by 1, so W = 1; pooled SD 1, d = -1,
    sigma_d^2 = 6/9 + 1/12 = 3/4. a = [0, 0, 3], b = [1, 1, 1]: W = (1 + 1 + 2)/3
    (sorted values matched), equal means: d = 0."""
    assert wasserstein([1, 2, 3], [2, 3, 4]) == pytest.approx(1.0)
    d, low, high = cohens_d([1, 2, 3], [2, 3, 4])
    assert d == pytest.approx(-1.0)
    assert (low, high) == pytest.approx((-1 - Z95 * np.sqrt(0.75), -1 + Z95 * np.sqrt(0.75)))
    assert wasserstein([0, 0, 3], [1, 1, 1]) == pytest.approx(4 / 3)
    d, low, high = cohens_d([0, 0, 3], [1, 1, 1])
    assert d == 0 and high == pytest.approx(Z95 * np.sqrt(6 / 9)) and low == -high
    # unequal sizes: W is the area between the empirical CDFs (F_a = 1/2 on [0, 2))
    assert wasserstein([0, 2], [1]) == pytest.approx(1.0)


def test_identical_samples_score_zero():
    x = np.random.default_rng(1).gamma(2.0, 3.0, 50)
    d, low, high = cohens_d(x, x.copy())
    assert d == 0 and low < 0 < high
    assert wasserstein(x, x[::-1]) == 0
    rows = compare_statistics({"rate": x, "cv": x / 10}, {"rate": x.copy(), "cv": x / 10})
    for row in rows:
        assert row["wasserstein"] == 0 and row["cohens_d"] == 0 and row["ks_distance"] == 0


def test_normal_samples_of_known_effect():
    """Two normal samples, means 0 and 0.5, SD 2: true d = -0.25. One draw: d near it and
    inside its interval; 400 seeded draws: the interval covers the truth about 95 % of
    the time (binomial SD 1.1 %: 91.5-98.5 % is +-3 SD)."""
    rng = np.random.default_rng(11)
    a, b = rng.normal(0.0, 2.0, 800), rng.normal(0.5, 2.0, 600)
    d, low, high = cohens_d(a, b)
    assert d == pytest.approx(_d_numpy(a, b), rel=1e-12)
    assert low < -0.25 < high and abs(d + 0.25) < 0.17  # 3 SD of d (0.054)
    covered = 0
    for _ in range(400):
        a, b = rng.normal(0.0, 2.0, 40), rng.normal(0.5, 2.0, 25)
        _, low, high = cohens_d(a, b)
        covered += low < -0.25 < high
    assert 0.915 <= covered / 400 <= 0.985
    # W of two normals of equal SD is the distance of their means (a shift)
    a, b = rng.normal(0.0, 1.0, 20000), rng.normal(0.5, 1.0, 20000)
    assert wasserstein(a, b) == pytest.approx(0.5, abs=0.03)


def test_compare_rows_carry_every_score():
    rng = np.random.default_rng(3)
    sim = {"rate": rng.normal(20, 4, 60), "cv": rng.uniform(0.5, 1.5, 60)}
    rec = {"rate": rng.normal(10, 3, 45), "cv": rng.uniform(0.8, 1.2, 45)}
    rows = {r["statistic"]: r for r in compare_statistics(sim, rec)}
    for key in ("rate", "cv"):
        row = rows[key]
        assert row["cohens_d"] == pytest.approx(_d_numpy(sim[key], rec[key]))
        assert row["cohens_d_low"] < row["cohens_d"] < row["cohens_d_high"]
        # W is at least the difference of the means (Jensen), at most the mean |a - b|
        assert abs(row["sim_mean"] - row["rec_mean"]) <= row["wasserstein"] + 1e-12
        assert row["wasserstein"] <= np.abs(sim[key][:, None] - rec[key][None]).mean()
    assert rows["rate"]["cohens_d"] > 2  # 10 Hz apart at SD ~3.5


def test_constant_samples_and_bad_input():
    with pytest.warns(UserWarning, match="infinite for rate"):
        rows = compare_statistics({"rate": [5.0, 5.0]}, {"rate": [3.0, 3.0, 3.0]})
    assert rows[0]["cohens_d"] == np.inf == rows[0]["cohens_d_low"]
    assert rows[0]["wasserstein"] == pytest.approx(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cohens_d([2.0], [2.0])[0] == 0
    for bad in ([], [1.0, np.nan]):
        with pytest.raises(ValueError, match="a must be a non-empty sample"):
            cohens_d(bad, [1.0, 2.0])
        with pytest.raises(ValueError, match="b must be a non-empty sample"):
            wasserstein([1.0], bad)
    with pytest.raises(ValueError, match="confidence must lie in"):
        cohens_d([1.0, 2.0], [1.0, 3.0], confidence=95)


def test_plot_statistic_comparison():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from le_brian.plotting import plot_statistic_comparison

    rng = np.random.default_rng(0)
    sim, rec = rng.normal(20, 4, 50), rng.normal(12, 3, 40)
    rows = compare_statistics({"rate": sim}, {"rate": rec})
    fig, (ax1, ax2) = plt.subplots(1, 2)
    assert plot_statistic_comparison({"simulation": sim, "recording": rec}, "rate", "Hz",
                                     scores=rows, axes=ax1) is ax1
    assert ax1.get_xlabel() == "rate (Hz)"
    assert f"KS {rows[0]['ks_distance']:.2f}" in ax1.get_title()
    assert f"W {rows[0]['wasserstein']:.3g} Hz" in ax1.get_title()
    assert f"d {rows[0]['cohens_d']:.2f} [" in ax1.get_title()
    # the ECDF of the simulation ends at 1 after its largest value
    x, y = ax1.get_lines()[0].get_data()
    assert y[-1] == 1 and x[-1] == sim.max() and len(x) == len(sim) + 1
    plot_statistic_comparison({"simulation": sim / 20}, "cv", kind="hist", axes=ax2)
    assert ax2.get_xlabel() == "cv (dimensionless)" and ax2.get_ylabel() == "density"
    with pytest.raises(ValueError, match="kind must be"):
        plot_statistic_comparison({"s": sim}, "rate", kind="violin", axes=ax2)
    with pytest.raises(ValueError, match="no finite value of cv"):
        plot_statistic_comparison({"s": [np.nan]}, "cv", axes=ax2)
    plt.close(fig)
