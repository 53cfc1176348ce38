r"""How much of a score's spread is the hyperparameter and how much the random seed: a two-way split.

A sweep trains one model per (seed, setting) pair and scores each: a table y of shape (S, B), seeds
down, settings (e.g. the KL weight beta) across. Comparing "the spread over seeds" with "the spread
of the seed-averaged scores across settings" is not like for like: the second is a spread of means
of S runs, so with no effect of the setting at all it is already about the first divided by
sqrt(S). The two-way decomposition without replication compares like with like. With the grand
mean m, the seed means y_i. and the setting means y_.j,

.. math::
    \sum_{ij} (y_{ij} - m)^2 = \underbrace{B \sum_i (y_{i\cdot} - m)^2}_{\text{seeds}}
    + \underbrace{S \sum_j (y_{\cdot j} - m)^2}_{\text{settings}}
    + \underbrace{\sum_{ij} (y_{ij} - y_{i\cdot} - y_{\cdot j} + m)^2}_{\text{residual}},

and each effect's mean square (its sum over its degrees of freedom, S - 1, B - 1 and
(S - 1)(B - 1)) is compared with the residual's: the F ratio is about 1 when the effect is absent.
Its p-value is the F distribution's upper tail (the scores taken as normal with one variance).
Used in chapter 9.
"""

from __future__ import annotations

import math

import torch

from .. import checks


def two_way_spread(table) -> dict[str, float]:
    r"""Split the spread of a (seeds x settings) table of scores into seed, setting and residual parts.

    ``table`` is (S, B) with S >= 2 seeds down and B >= 2 settings across (a tensor or nested lists).
    Returns, all floats:

    * ``setting_means_sd``: the standard deviation of the B setting means (each a mean over the seeds), and
      ``setting_sd_if_none``: what it would be with no setting effect, residual sd / sqrt(S);
    * ``seed_means_sd``: the standard deviation of the S seed means, and ``seed_sd_if_none`` = residual sd / sqrt(B);
    * ``within_sd``: the standard deviation over seeds at one setting, averaged over the settings
      (the number a naive comparison sets beside ``setting_means_sd``), and ``within_sd / sqrt(S)``
      as ``within_sd_over_root_seeds``;
    * ``residual_sd``: the square root of the residual mean square;
    * ``f_setting``, ``p_setting``, ``f_seed``, ``p_seed``: each effect's F ratio and p-value.

    The decomposition is in the module docstring. Taught in chapter 9.
    """
    y = checks.tensor(table if isinstance(table, torch.Tensor) else torch.tensor(table), "table").double()
    if y.dim() != 2 or min(y.shape) < 2:
        raise ValueError(
            f"table must be 2-D (seeds x settings) with at least 2 of each; got shape {tuple(y.shape)}. "
            "Put one row per seed and one column per setting."
        )
    if not torch.isfinite(y).all():
        raise ValueError("table holds NaN or infinite scores; drop or rerun those runs first")
    from scipy.stats import f as f_distribution  # here: importing vaelib does no work

    s, b = y.shape
    grand, seed_means, setting_means = y.mean(), y.mean(1), y.mean(0)
    residual = y - seed_means[:, None] - setting_means[None, :] + grand
    df_seed, df_setting, df_residual = s - 1, b - 1, (s - 1) * (b - 1)
    ms_seed = b * (seed_means - grand).pow(2).sum().item() / df_seed
    ms_setting = s * (setting_means - grand).pow(2).sum().item() / df_setting
    ms_residual = residual.pow(2).sum().item() / df_residual
    residual_sd = math.sqrt(ms_residual)
    f_seed = ms_seed / ms_residual if ms_residual > 0 else math.inf
    f_setting = ms_setting / ms_residual if ms_residual > 0 else math.inf
    within_sd = y.std(0).mean().item()
    return {
        "setting_means_sd": setting_means.std().item(),
        "setting_sd_if_none": residual_sd / math.sqrt(s),
        "seed_means_sd": seed_means.std().item(),
        "seed_sd_if_none": residual_sd / math.sqrt(b),
        "within_sd": within_sd,
        "within_sd_over_root_seeds": within_sd / math.sqrt(s),
        "residual_sd": residual_sd,
        "f_setting": f_setting,
        "p_setting": float(f_distribution.sf(f_setting, df_setting, df_residual)),
        "f_seed": f_seed,
        "p_seed": float(f_distribution.sf(f_seed, df_seed, df_residual)),
    }
