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

from ._result import Result
from ._validation import InvalidParameterError
from .diffusion import ase, asmi, dse, dsmi
from .estimators import cse, csmi

__version__ = "0.1.0"

__all__ = [
    "InvalidParameterError",
    "Result",
    "ase",
    "asmi",
    "cse",
    "csmi",
    "dse",
    "dsmi",
]
