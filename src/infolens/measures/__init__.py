"""Estimators beside the diffusion measures: baselines, neighbour, neural, kernel-matrix,
spectral-quality, compressed and adaptive-binning estimators, and their uncertainty."""

from infolens.measures.adaptive import adaptive_binning_mi
from infolens.measures.binning import cse, csmi
from infolens.measures.compressed import compressed_mi
from infolens.measures.knn import kl_entropy, ksg_mi
from infolens.measures.kernel_matrix import cs_mi, nuclear_norm, renyi_entropy, renyi_mi, vendi_score, von_neumann_entropy
from infolens.measures.neural import infonce_mi, mine_mi, nwj_mi
from infolens.measures.quality import alpha_req, rankme
from infolens.measures.uncertainty import bootstrap_ci, permutation_test

__all__ = [
    "adaptive_binning_mi",
    "alpha_req",
    "bootstrap_ci",
    "compressed_mi",
    "cs_mi",
    "cse",
    "csmi",
    "infonce_mi",
    "kl_entropy",
    "ksg_mi",
    "mine_mi",
    "nuclear_norm",
    "nwj_mi",
    "permutation_test",
    "rankme",
    "renyi_entropy",
    "renyi_mi",
    "vendi_score",
    "von_neumann_entropy",
]
