r"""Scores of a simulation against a recording, as NetworkUnit (Gutzen et al. 2018) uses
them: per spike-train statistic (rate, ISI CV, CV2, LV, Fano factor, pairwise
correlation), the two-sample Kolmogorov-Smirnov distance, the Wasserstein (earth
mover's) distance and the effect size Cohen's d with its confidence interval.

Needs only NumPy and SciPy (the statistics themselves come from
`le_brian.ephys.spike_statistics`, which needs the ``ephys`` extra);
`compare_statistics` is re-exported by `le_brian.ephys`.
"""

import warnings

import numpy as np

__all__ = ["compare_statistics", "cohens_d", "wasserstein", "STATISTICS", "STATISTIC_UNITS"]

#: Per-train (or per-pair) statistics that `compare_statistics` sets side by side.
STATISTICS = ("rate", "cv", "cv2", "lv", "fano", "correlation")
#: Their units, for tables and axes.
STATISTIC_UNITS = {"rate": "Hz", "cv": "1", "cv2": "1", "lv": "1", "fano": "1",
                   "correlation": "1"}


def _sample(name, values):
    a = np.asarray(values, dtype=float).ravel()
    if not len(a) or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a non-empty sample of finite numbers, got "
                         f"{len(a)} values" + ("" if not len(a) else " with NaN or inf"))
    return a


def wasserstein(a, b):
    r"""The Wasserstein-1 (earth mover's) distance between the empirical distributions
    of samples ``a`` and ``b`` (`scipy.stats.wasserstein_distance`), in the samples'
    unit: :math:`W = \int |F_a(x) - F_b(x)|\,dx` with :math:`F` the empirical CDFs.
    For two point masses it is the distance of the points; a shift of a whole sample by
    c changes it by at most :math:`|c|`.

    Raises
    ------
    ValueError
        An empty sample or one with NaN / inf.

    Examples
    --------
    >>> wasserstein([0.0, 1.0], [1.0, 2.0])
    1.0
    """
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(_sample("a", a), _sample("b", b)))


def cohens_d(a, b, confidence=0.95):
    r"""Cohen's d of sample ``a`` against sample ``b`` with its confidence interval.

    .. math::

        d = \frac{\bar a - \bar b}{s_p},\qquad
        s_p = \sqrt{\frac{(n_a - 1)s_a^2 + (n_b - 1)s_b^2}{n_a + n_b - 2}}

    (:math:`s^2` the unbiased sample variances), and the interval
    :math:`d \pm z_{(1+c)/2}\,\sigma_d` from the standard large-sample variance of d
    (Hedges & Olkin 1985, eq. 5.14):

    .. math:: \sigma_d^2 = \frac{n_a + n_b}{n_a n_b} + \frac{d^2}{2(n_a + n_b)}

    Parameters
    ----------
    a, b : array_like
        Finite samples (a: the simulation, b: the recording in `compare_statistics`;
        d > 0 where the simulation's values are larger).
    confidence : float
        Level of the interval, in (0, 1) (default 0.95: z = 1.96).

    Returns
    -------
    (d, low, high) : tuple of float
        Where the pooled SD is zero (every value of both samples equal within each,
        or one value on each side): d = 0 for equal means (interval from the formula),
        else d = low = high = +-inf (an infinite effect: the samples do not overlap and
        neither varies).

    Raises
    ------
    ValueError
        An empty sample, one with NaN / inf, or ``confidence`` outside (0, 1).

    Examples
    --------
    >>> d, lo, hi = cohens_d([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    >>> d, round(lo, 3), round(hi, 3)
    (-1.0, -2.697, 0.697)
    """
    from scipy.stats import norm

    a, b = _sample("a", a), _sample("b", b)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean())
    squares = float(((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum())
    pooled = np.sqrt(squares / (na + nb - 2)) if na + nb > 2 else 0.0
    if pooled == 0:
        if diff != 0:
            return (float(np.copysign(np.inf, diff)),) * 3
        d = 0.0
    else:
        d = diff / pooled
    sd = np.sqrt((na + nb) / (na * nb) + d * d / (2 * (na + nb)))
    z = float(norm.ppf(0.5 + confidence / 2))
    return float(d), float(d - z * sd), float(d + z * sd)


def compare_statistics(simulated, recorded):
    """Per statistic of `le_brian.ephys.spike_statistics` (rate, CV, CV2, LV, Fano
    factor per train, correlation coefficient per pair; the Fano factor only when both
    sides were computed with sample onsets): mean and median of the simulated and
    recorded values and three scores of their distributions, as NetworkUnit reports
    them (NaN values, e.g. the CV of a train with < 3 spikes, left out):

    * the two-sample Kolmogorov-Smirnov distance and its p-value (scipy.stats.ks_2samp),
    * the Wasserstein (earth mover's) distance, in the statistic's unit (`wasserstein`),
    * Cohen's d of the simulation against the recording (pooled SD) with its 95 %
      confidence interval from the large-sample variance of d (`cohens_d` gives the
      formulas).

    Parameters
    ----------
    simulated, recorded : dict
        Outputs of `spike_statistics`.

    Returns
    -------
    list of dict
        One row per statistic defined on both sides: ``statistic``, ``unit``,
        ``sim_mean``, ``rec_mean``, ``sim_median``, ``rec_median``, ``sim_n``,
        ``rec_n``, ``ks_distance``, ``ks_p``, ``wasserstein``, ``cohens_d``,
        ``cohens_d_low``, ``cohens_d_high``. None is NaN: a statistic without a finite
        value on one side (e.g. the CV when no train has 3 spikes) is left out with a
        `UserWarning` naming it and the side; d is +-inf (with a warning) only where
        neither sample varies and their values differ.

    Raises
    ------
    ValueError
        No statistic is defined on both sides.
    """
    from scipy.stats import ks_2samp

    rows, undefined, infinite = [], [], []
    for key in STATISTICS:
        if key not in simulated or key not in recorded:
            continue
        a = np.asarray(simulated[key], dtype=float)
        b = np.asarray(recorded[key], dtype=float)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if not (len(a) and len(b)):
            undefined.append(f"{key} ({' and '.join(side for side, v in (('simulation', a),
                             ('recording', b)) if not len(v))})")
            continue
        test = ks_2samp(a, b)
        d, low, high = cohens_d(a, b)
        if not np.isfinite(d):
            infinite.append(key)
        rows.append({"statistic": key, "unit": STATISTIC_UNITS[key], "sim_n": int(len(a)),
                     "rec_n": int(len(b)), "sim_mean": float(a.mean()),
                     "rec_mean": float(b.mean()), "sim_median": float(np.median(a)),
                     "rec_median": float(np.median(b)),
                     "ks_distance": float(test.statistic), "ks_p": float(test.pvalue),
                     "wasserstein": wasserstein(a, b), "cohens_d": d, "cohens_d_low": low,
                     "cohens_d_high": high})
    if undefined:
        warnings.warn("compare_statistics: undefined, left out (no finite value on that "
                      f"side; e.g. too few spikes): {', '.join(undefined)}", stacklevel=2)
    if infinite:
        warnings.warn("compare_statistics: Cohen's d is infinite for "
                      f"{', '.join(infinite)} (neither sample varies and their values "
                      "differ)", stacklevel=2)
    if not rows:
        raise ValueError("compare_statistics: no statistic is defined on both sides "
                         f"({', '.join(undefined)}): too few spikes to compare")
    return rows
