"""adnet_lab: study, re-train and re-check ADNet (Huang et al., ICCV 2021).

The handful of names a notebook needs::

    from adnet_lab import get_scheme, curve_normals, decompose_errors, nme, auc, failure_rate
"""

from adnet_lab.geometry import curve_normals, curve_tangents, decompose_errors
from adnet_lab.losses import anisotropic_direction_loss, awing_loss, star_loss
from adnet_lab.metrics import NMEAccumulator, auc, ced, failure_rate, landmark_errors, nme
from adnet_lab.model import ADNet, ADNetConfig, load_official_checkpoint
from adnet_lab.topology import LandmarkScheme, get_scheme, mean_face

__all__ = [
    "ADNet",
    "ADNetConfig",
    "LandmarkScheme",
    "NMEAccumulator",
    "anisotropic_direction_loss",
    "auc",
    "awing_loss",
    "ced",
    "curve_normals",
    "curve_tangents",
    "decompose_errors",
    "failure_rate",
    "get_scheme",
    "landmark_errors",
    "load_official_checkpoint",
    "mean_face",
    "nme",
    "star_loss",
]

__version__ = "0.1.0"
