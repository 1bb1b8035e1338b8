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

from infolens import datasets
from infolens.api import (
    MethodInfo,
    bootstrap_ci,
    entropy,
    list_methods,
    mutual_information,
    permutation_test,
)
from infolens.core.progress import set_progress
from infolens.core.result import Result
from infolens.core.threads import set_threads
from infolens.core.validation import InvalidParameterError
from infolens.measures.adaptive import adaptive_binning_mi
from infolens.measures.adjacency import ase, asmi
from infolens.measures.attention import attention_entropy
from infolens.measures.attention_stream import attention_entropy_from_qk
from infolens.measures.binning import cse, csmi
from infolens.measures.conditional import classifier_cmi, conditional_mutual_information
from infolens.measures.cauchy_schwarz import cauchy_schwarz_mi, cs_mi
from infolens.measures.compressed import compressed_mi
from infolens.measures.diffusion import dse, dsmi
from infolens.measures.kde import kde_mi
from infolens.measures.kernel_matrix import (
    renyi_entropy,
    renyi_mi,
    vendi_score,
    von_neumann_entropy,
)
from infolens.measures.knn import kl_entropy, ksg_mi
from infolens.measures.neural import infonce_mi, mine_mi, nwj_mi
from infolens.measures.pid import partial_information
from infolens.measures.quality import alpha_req, nuclear_norm, rankme
from infolens.measures.routing import distribution_entropy, routing_fluctuation
from infolens.measures.screen import ScreenResult, feature_screen
from infolens.measures.wasserstein import wasserstein_dependency

__version__ = "0.1.0"

__all__ = [
    "InvalidParameterError",
    "MethodInfo",
    "Result",
    "ScreenResult",
    "adaptive_binning_mi",
    "alpha_req",
    "ase",
    "asmi",
    "attention_entropy",
    "attention_entropy_from_qk",
    "bootstrap_ci",
    "cauchy_schwarz_mi",
    "classifier_cmi",
    "compressed_mi",
    "conditional_mutual_information",
    "cs_mi",
    "cse",
    "csmi",
    "datasets",
    "distribution_entropy",
    "dse",
    "dsmi",
    "entropy",
    "feature_screen",
    "infonce_mi",
    "kde_mi",
    "kl_entropy",
    "ksg_mi",
    "list_methods",
    "mine_mi",
    "mutual_information",
    "nuclear_norm",
    "nwj_mi",
    "partial_information",
    "permutation_test",
    "rankme",
    "renyi_entropy",
    "renyi_mi",
    "routing_fluctuation",
    "set_progress",
    "set_threads",
    "vendi_score",
    "von_neumann_entropy",
    "wasserstein_dependency",
]
