"""Data with a known answer: ground-truth MI/entropy tasks and the DSE paper's synthetic data.

* :mod:`infolens.datasets.ground_truth`: Gaussian, Student-t and uniform
  samples with their mutual information or entropy in closed form (nats),
  and invertible transforms that keep the MI;
* :mod:`infolens.datasets.synthetic`: the DSE paper's Gaussian blobs with
  label corruption, branching trees and intrinsic-dimension data.

Every name of both modules is importable from here (``infolens.datasets.X``).
"""

from __future__ import annotations

from infolens.datasets.ground_truth import (
    TRANSFORMS,
    Task,
    bivariate_normal,
    gaussian_entropy,
    gaussian_mi,
    multivariate_normal,
    student_t,
    student_t_mi,
    transform,
    uniform_box,
)
from infolens.datasets.synthetic import (
    branching_tree,
    corrupt_labels,
    gaussian_blobs,
    intrinsic_dimension_data,
)

__all__ = [
    "TRANSFORMS",
    "Task",
    "bivariate_normal",
    "branching_tree",
    "corrupt_labels",
    "gaussian_blobs",
    "gaussian_entropy",
    "gaussian_mi",
    "intrinsic_dimension_data",
    "multivariate_normal",
    "student_t",
    "student_t_mi",
    "transform",
    "uniform_box",
]
