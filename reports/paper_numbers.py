"""The OMIGA paper's reported scores, to print beside a study run on the paper's own (imported) data.

Mean ± std over 5 seeds of the last evaluation, as the OMIGA authors' numbers are carried by vietbt/ComaDICE
``analyze.ipynb`` (cell 15; the repository's README says the baselines' results came from the OMIGA authors):
SMAC returns on the 0-20 scale and multi-agent MuJoCo returns. The MuJoCo BC row is ComaDICE's own BC run (the
OMIGA paper has no BC row there). Transcribed from ../shared/PAPER_NUMBERS.md, sections 1.1 and 1.2.
Numbers measured on SMAX, or on data this suite generated, are not comparable with these.
"""

from __future__ import annotations

__all__ = ["PAPER_SCORES", "PAPER_SOURCE", "paper_scores"]

PAPER_SOURCE = ("the OMIGA authors' numbers (mean ± std over 5 seeds) as carried in vietbt/ComaDICE analyze.ipynb; "
                "MuJoCo BC is ComaDICE's own run")

PAPER_SCORES: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("mamujoco_hopper_3x1", "expert"): {
        "bcq": (77.85, 58.04), "cql": (159.14, 313.83), "icq": (754.74, 806.28), "omar": (2.36, 1.46),
        "omiga": (859.63, 709.47), "bc": (209.85, 191.12),
    },
    ("mamujoco_hopper_3x1", "medium"): {
        "bcq": (44.58, 20.62), "cql": (401.27, 199.88), "icq": (501.79, 14.03), "omar": (21.34, 24.9),
        "omiga": (1189.26, 544.3), "bc": (511.95, 7.43),
    },
    ("mamujoco_hopper_3x1", "medium-replay"): {
        "bcq": (26.53, 24.04), "cql": (31.37, 15.16), "icq": (195.39, 103.61), "omar": (3.3, 3.22),
        "omiga": (774.18, 494.27), "bc": (133.31, 53.54),
    },
    ("mamujoco_hopper_3x1", "medium-expert"): {
        "bcq": (54.31, 23.66), "cql": (64.82, 123.31), "icq": (355.44, 373.86), "omar": (1.44, 0.86),
        "omiga": (709.0, 595.66), "bc": (155.3, 111.53),
    },
    ("mamujoco_ant_2x4", "expert"): {
        "bcq": (1317.73, 286.28), "cql": (1042.39, 2021.64), "icq": (2050.0, 11.86),
        "omar": (312.54, 297.48), "omiga": (2055.46, 1.58), "bc": (2046.31, 6.18),
    },
    ("mamujoco_ant_2x4", "medium"): {
        "bcq": (1059.6, 91.22), "cql": (533.9, 1766.43), "icq": (1412.41, 10.93),
        "omar": (-1710.04, 1588.98), "omiga": (1418.44, 5.36), "bc": (1421.09, 7.88),
    },
    ("mamujoco_ant_2x4", "medium-replay"): {
        "bcq": (950.77, 48.76), "cql": (234.62, 1618.25), "icq": (1016.68, 53.51), "omar": (-2014.2, 844.68),
        "omiga": (1105.13, 88.87), "bc": (994.0, 20.29),
    },
    ("mamujoco_ant_2x4", "medium-expert"): {
        "bcq": (1020.89, 242.74), "cql": (800.22, 1621.47), "icq": (1590.18, 85.61), "omar": (-2992.8, 6.95),
        "omiga": (1720.33, 110.63), "bc": (1561.7, 64.81),
    },
    ("mamujoco_halfcheetah_6x1", "expert"): {
        "bcq": (2992.71, 629.65), "cql": (1189.54, 1034.49), "icq": (2955.94, 459.19),
        "omar": (-206.73, 161.12), "omiga": (3383.61, 552.67), "bc": (3251.22, 386.83),
    },
    ("mamujoco_halfcheetah_6x1", "medium"): {
        "bcq": (2590.47, 1110.35), "cql": (1011.35, 1016.94), "icq": (2549.27, 96.34),
        "omar": (-265.68, 146.98), "omiga": (3608.13, 237.37), "bc": (2280.32, 178.22),
    },
    ("mamujoco_halfcheetah_6x1", "medium-replay"): {
        "bcq": (-333.64, 152.06), "cql": (1998.67, 693.92), "icq": (1922.42, 612.87),
        "omar": (-235.42, 154.89), "omiga": (2504.7, 83.47), "bc": (1886.2, 390.77),
    },
    ("mamujoco_halfcheetah_6x1", "medium-expert"): {
        "bcq": (3543.7, 780.89), "cql": (1194.23, 1081.05), "icq": (2833.99, 420.32),
        "omar": (-253.84, 63.94), "omiga": (2948.46, 518.89), "bc": (2451.95, 782.99),
    },
    ("smac_2c_vs_64zg", "poor"): {
        "bc": (11.56, 0.39), "bcq": (12.46, 0.18), "cql": (10.83, 0.51), "icq": (12.56, 0.18),
        "omar": (11.33, 0.5), "omiga": (13.02, 0.66),
    },
    ("smac_2c_vs_64zg", "medium"): {
        "bc": (13.37, 1.87), "bcq": (15.58, 0.37), "cql": (12.82, 1.61), "icq": (15.57, 0.61),
        "omar": (10.2, 0.2), "omiga": (16.03, 0.19),
    },
    ("smac_2c_vs_64zg", "good"): {
        "bc": (17.9, 1.3), "bcq": (19.13, 0.27), "cql": (18.48, 0.95), "icq": (18.82, 0.17),
        "omar": (17.27, 0.78), "omiga": (19.15, 0.32),
    },
    ("smac_5m_vs_6m", "poor"): {
        "bc": (6.98, 0.47), "bcq": (7.61, 0.36), "cql": (7.43, 0.1), "icq": (7.26, 0.19),
        "omar": (7.27, 0.42), "omiga": (7.52, 0.21),
    },
    ("smac_5m_vs_6m", "medium"): {
        "bc": (7.05, 0.82), "bcq": (7.58, 0.1), "cql": (7.78, 0.1), "icq": (7.77, 0.3), "omar": (7.08, 0.51),
        "omiga": (7.92, 0.57),
    },
    ("smac_5m_vs_6m", "good"): {
        "bc": (6.95, 0.47), "bcq": (7.76, 0.15), "cql": (8.08, 0.21), "icq": (7.87, 0.3),
        "omar": (7.4, 0.63), "omiga": (8.25, 0.37),
    },
    ("smac_6h_vs_8z", "poor"): {
        "bc": (8.57, 0.81), "bcq": (10.84, 0.16), "cql": (10.81, 0.52), "icq": (10.55, 0.1),
        "omar": (10.63, 0.25), "omiga": (11.31, 0.19),
    },
    ("smac_6h_vs_8z", "medium"): {
        "bc": (9.46, 0.35), "bcq": (11.77, 0.16), "cql": (11.29, 0.29), "icq": (11.13, 0.33),
        "omar": (10.36, 0.16), "omiga": (12.19, 0.22),
    },
    ("smac_6h_vs_8z", "good"): {
        "bc": (10.02, 1.67), "bcq": (12.19, 0.23), "cql": (10.44, 0.2), "icq": (11.81, 0.12),
        "omar": (9.85, 0.28), "omiga": (12.54, 0.21),
    },
    ("smac_corridor", "poor"): {
        "bc": (2.91, 0.57), "bcq": (4.47, 0.94), "cql": (4.08, 0.6), "icq": (4.47, 0.33),
        "omar": (4.28, 0.49), "omiga": (5.61, 0.35),
    },
    ("smac_corridor", "medium"): {
        "bc": (7.39, 0.79), "bcq": (10.82, 0.92), "cql": (7.04, 0.66), "icq": (11.3, 1.57),
        "omar": (7.26, 0.71), "omiga": (11.66, 1.3),
    },
    ("smac_corridor", "good"): {
        "bc": (10.81, 2.61), "bcq": (15.24, 1.21), "cql": (5.22, 0.81), "icq": (15.54, 1.12),
        "omar": (6.74, 0.69), "omiga": (15.88, 0.89),
    },
}
"""(task, quality) -> method -> (mean, std); methods under this suite's names (bc, bcq, cql, icq, omar, omiga)."""


def paper_scores(task: str, quality: str) -> dict[str, tuple[float, float]]:
    """The paper's scores on one task × quality (empty where the paper has none, e.g. a mixture)."""
    return dict(PAPER_SCORES.get((task, quality), {}))
