"""The measures, one module per family: ``diffusion`` (DSE, DSMI), ``adjacency`` (ASE,
ASMI), ``binning`` (CSE, CSMI), ``knn`` (Kozachenko-Leonenko, KSG), ``neural`` (MINE, NWJ,
InfoNCE), ``kernel_matrix`` (matrix-based Renyi and von Neumann entropies, Vendi score,
nuclear norm), ``cauchy_schwarz``, ``quality`` (RankMe, alpha-ReQ), ``compressed``,
``adaptive``, with ``conditioning`` (the partition of a reference variable), ``common``
(input handling) and ``uncertainty`` (bootstrap intervals, permutation tests).

This package imports nothing, so that importing one measure module never runs code
that could import back into it: import the functions from their modules, or from
:mod:`infolens`.  Which measures exist is declared in :mod:`infolens.registry`.
"""
