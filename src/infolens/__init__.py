"""infolens: information measures for neural-network representations.

Core measures (bits by default):

* :func:`dse`, :func:`dsmi`: diffusion spectral entropy and mutual information
  (Liao, Liu et al., arXiv 2312.04823), with a scale-aware default bandwidth and
  a ``preset="dse-dsmi"`` that reproduces the reference package;
* :func:`ase`, :func:`asmi`: adjacency spectral entropy and mutual information;
* :func:`cse`, :func:`csmi`: classic binning entropy and mutual information.

Every measure returns a float, or a :class:`Result` with the value, unit, the
parameters actually used and timing when called with ``return_result=True``.
"""

from infolens.core.progress import set_progress
from infolens.core.result import Result
from infolens.core.validation import InvalidParameterError
from infolens.measures.diffusion import ase, asmi, dse, dsmi
from infolens.measures import cse, csmi
from infolens import datasets
from infolens.api import MethodInfo, entropy, list_methods, mutual_information
from infolens.measures import (
    adaptive_binning_mi,
    alpha_req,
    bootstrap_ci,
    compressed_mi,
    cs_mi,
    infonce_mi,
    kl_entropy,
    ksg_mi,
    mine_mi,
    nuclear_norm,
    nwj_mi,
    permutation_test,
    rankme,
    renyi_entropy,
    renyi_mi,
    vendi_score,
    von_neumann_entropy,
)

__version__ = "0.1.0"

__all__ = [
    "InvalidParameterError",
    "MethodInfo",
    "Result",
    "adaptive_binning_mi",
    "alpha_req",
    "ase",
    "asmi",
    "bootstrap_ci",
    "compressed_mi",
    "cs_mi",
    "cse",
    "csmi",
    "datasets",
    "dse",
    "dsmi",
    "entropy",
    "infonce_mi",
    "kl_entropy",
    "ksg_mi",
    "list_methods",
    "mine_mi",
    "mutual_information",
    "nuclear_norm",
    "nwj_mi",
    "permutation_test",
    "rankme",
    "renyi_entropy",
    "renyi_mi",
    "set_progress",
    "vendi_score",
    "von_neumann_entropy",
]
