"""adnet_lab: study, re-train and re-check ADNet (Huang et al., ICCV 2021).

The handful of names a notebook needs::

    from adnet_lab import get_scheme, curve_normals, decompose_errors, nme, auc, failure_rate
"""

from adnet_lab.geometry import curve_normals, curve_tangents, decompose_errors
from adnet_lab.metrics import NMEAccumulator, auc, ced, failure_rate, landmark_errors, nme
from adnet_lab.topology import LandmarkScheme, get_scheme, mean_face

__all__ = [
    "LandmarkScheme",
    "NMEAccumulator",
    "auc",
    "ced",
    "curve_normals",
    "curve_tangents",
    "decompose_errors",
    "failure_rate",
    "get_scheme",
    "landmark_errors",
    "mean_face",
    "nme",
]

__version__ = "0.1.0"
