"""Synthetic faces with controllable annotation ambiguity: the package's default data.

Each face is drawn from a scheme's mean shape (WFLW-98 or 300W-68) with random identity
(per-part size and position), expression (mouth opening, brow raise), a mild yaw squeeze and a
random similarity pose. It is rendered so that the facial curves are *visible edges*: a skin
region bounded by the jaw, filled brows, eyes with irises, nose lines, filled lips and the
mouth opening, over a cluttered background, with varied colours, a lighting gradient, noise,
sometimes blur and random occluders.

Every face has **true** landmarks (on the drawn curves) and **annotated** landmarks, which
reproduce the cause of ADNet's error-bias: the annotated point is the true one moved
*along* its curve by a tangent offset ~ N(0, sigma_tangent) (arc length) and *across* it by
a normal offset ~ N(0, sigma_normal), both as fractions of the face's inter-ocular distance.
Points on no curve (WFLW's pupils) move isotropically with sigma_normal. Open curves reflect
an offset that runs past their end. Equal sigmas remove the cause of the bias.

Generation is deterministic for a seed: faces come in chunks of :data:`CHUNK_SIZE`, chunk
``k`` drawing from ``numpy.random.default_rng((seed, k))``, whatever the number of workers.
"""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from tqdm.auto import tqdm

from adnet_lab.core.configs import AMBIGUITY_PROFILES, SYNTHETIC_SCHEMES, SyntheticConfig
from adnet_lab.core.errors import UsageError
from adnet_lab.core.geometry import decompose_errors, rotate_90
from adnet_lab.core.metrics import normalizing_distance
from adnet_lab.core.topology import LandmarkScheme, get_scheme, mean_face
from adnet_lab.data.formats import WFLW_ATTRIBUTES, FaceRecord, RecordList
from adnet_lab.data.splines import sample_curve_splines

__all__ = [
    "AMBIGUITY_PROFILES",
    "CHUNK_SIZE",
    "SYNTHETIC_SCHEMES",
    "ClutterShape",
    "FaceStyle",
    "Occluder",
    "SyntheticConfig",
    "SyntheticFaces",
    "annotate_along_curves",
    "curve_label_anisotropy",
    "draw_face",
    "generate_faces",
    "random_face_shapes",
    "render_face",
    "sample_face_style",
]

CHUNK_SIZE = 64
SUPERSAMPLE = 2          # faces are drawn at 2x and reduced, for anti-aliased edges
_DENSE = 8               # spline samples per landmark interval for drawing

@dataclass
class SyntheticFaces:
    """A generated set: images, true and annotated landmarks, occlusion flags and tags.

    Attributes:
        images: ``M x S x S x 3`` uint8 RGB.
        true_landmarks: ``M x N x 2`` float64 pixels, on the drawn curves.
        landmarks: ``M x N x 2`` float64 pixels, the annotation (what a model is trained on).
        occluded: ``M x N`` bool, landmarks under an occluder.
        tags: per face, the WFLW-style attributes that apply.
    """

    config: SyntheticConfig
    images: np.ndarray
    true_landmarks: np.ndarray
    landmarks: np.ndarray
    occluded: np.ndarray
    tags: list[frozenset[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def scheme(self) -> LandmarkScheme:
        return get_scheme(self.config.scheme)

    def records(self, truth: bool = False) -> RecordList:
        """Records for :class:`~adnet_lab.data.dataset.FaceAlignmentDataset`, with the
        annotated landmarks (or the true ones with ``truth=True``) and the pixels embedded;
        the box is the annotated landmarks' bounding box."""
        points = self.true_landmarks if truth else self.landmarks
        return RecordList(
            FaceRecord(Path(f"synthetic/{index:06d}.png"), points[index],
                       (*self.landmarks[index].min(0), *self.landmarks[index].max(0)),
                       self.tags[index], self.occluded[index], image=self.images[index],
                       source=f"synthetic[{index}]")
            for index in range(len(self)))

    def save(self, directory: str | Path, split: str = "train") -> Path:
        """Write PNG images and a WFLW-format list (``wflw``) or ``.pts`` files (``300w``).

        Layout: ``directory/images/<split>/<index>.png``; for WFLW
        ``directory/list_98pt_rect_attr_<split>.txt`` (readable with
        :func:`~adnet_lab.data.formats.read_wflw` and ``images_dir=directory/images``); for
        300W a ``.pts`` beside each image (1-based, as the format). The true landmarks go to
        ``directory/truth_<split>.npz``. Returns the list file (WFLW) or the image folder.
        """
        directory = Path(directory)
        image_dir = directory / "images" / split
        image_dir.mkdir(parents=True, exist_ok=True)
        lines = []
        for index, image in enumerate(self.images):
            name = f"{split}/{index:06d}.png"
            Image.fromarray(image).save(directory / "images" / name, compress_level=1)
            points = self.landmarks[index]
            if self.config.scheme == "wflw":
                box = np.concatenate([points.min(0), points.max(0)])
                flags = ["1" if attribute in self.tags[index] else "0"
                         for attribute in WFLW_ATTRIBUTES]
                lines.append(" ".join([*(f"{v:.4f}" for v in points.ravel()),
                                       *(f"{v:.0f}" for v in box), *flags, name]))
            else:
                rows = "\n".join(f"{x + 1:.4f} {y + 1:.4f}" for x, y in points)
                (image_dir / f"{index:06d}.pts").write_text(
                    f"version: 1\nn_points:  {len(points)}\n{{\n{rows}\n}}\n")
        np.savez_compressed(directory / f"truth_{split}.npz", true_landmarks=self.true_landmarks,
                            landmarks=self.landmarks, occluded=self.occluded,
                            config=np.array(str(asdict(self.config))))
        if self.config.scheme != "wflw":
            return image_dir
        list_file = directory / f"list_98pt_rect_attr_{split}.txt"
        list_file.write_text("\n".join(lines) + "\n")
        return list_file


# ------------------------------------------------------------------------------------ shapes

def _groups(scheme: LandmarkScheme) -> list[np.ndarray]:
    """Point groups deformed together (an eye moves with its pupil)."""
    parts = dict(scheme.parts)
    groups = []
    for side in ("left", "right"):
        eye = list(parts.pop(f"{side}_eye"))
        eye += list(parts.pop(f"{side}_pupil", ()))
        groups.append(np.array(eye))
    groups += [np.array(indices) for name, indices in parts.items() if name != "jaw"]
    return groups


def random_face_shapes(scheme: LandmarkScheme, count: int, size: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """True landmarks of ``count`` random faces, ``count x N x 2`` pixels of an S x S image.

    Returns the shapes and the drawn factors (``yaw``, ``roll_deg``, ``mouth_open``, ...).
    """
    base = mean_face(scheme) - mean_face(scheme).mean(axis=0)
    shapes = np.repeat(base[None], count, axis=0)
    # Identity: each part scaled about its centre and moved a little.
    for group in _groups(scheme):
        centre = shapes[:, group].mean(axis=1, keepdims=True)
        scale = rng.normal(1.0, 0.07, size=(count, 1, 2))
        offset = rng.normal(0.0, 0.01, size=(count, 1, 2))
        shapes[:, group] = centre + (shapes[:, group] - centre) * scale + offset
    jaw = np.array(scheme.parts["jaw"])
    shapes[:, jaw, 0] *= rng.normal(1.0, 0.05, size=(count, 1))
    # Expression: mouth opening drops the lower lips and the chin; brows rise or fall.
    lips = np.concatenate([scheme.parts["outer_lip"], scheme.parts["inner_lip"]])
    mouth_open = 0.12 * rng.random(count) ** 2
    corners_y = shapes[:, lips, 1].mean(axis=1, keepdims=True)
    spread = np.ptp(shapes[:, lips, 1], axis=1, keepdims=True) / 2
    lower = np.clip((shapes[:, lips, 1] - corners_y) / spread, 0.0, 1.0)
    inner = np.isin(lips, scheme.parts["inner_lip"])
    lower = np.where(inner[None], np.clip(lower * 3, 0, 1), lower)
    shapes[:, lips, 1] += mouth_open[:, None] * lower
    chin = np.clip((shapes[:, jaw, 1] - corners_y) / 0.2, 0.0, 1.0)
    shapes[:, jaw, 1] += 0.6 * mouth_open[:, None] * chin
    brows = np.concatenate([scheme.parts["left_brow"], scheme.parts["right_brow"]])
    shapes[:, brows, 1] -= rng.normal(0.0, 0.015, size=(count, 1))
    # Mild yaw: one side squeezed, the nose and mouth shifted towards it.
    yaw = rng.normal(0.0, 0.12, size=count)
    x = shapes[..., 0]
    shapes[..., 0] = x * (1 - 0.6 * yaw[:, None] * np.sign(x))
    middle = np.concatenate([scheme.parts["nose_bridge"], scheme.parts["nose_base"], lips])
    shapes[:, middle, 0] += 0.08 * yaw[:, None] * (1 + shapes[:, middle, 1])
    # Similarity pose into the image.
    roll = rng.normal(0.0, 10.0, size=count)
    width = np.ptp(shapes[:, jaw, 0], axis=1)
    scale = size * rng.uniform(0.5, 0.7, size=count) / width
    angle = np.radians(roll)
    rotation = np.stack([np.stack([np.cos(angle), -np.sin(angle)], -1),
                         np.stack([np.sin(angle), np.cos(angle)], -1)], axis=-2)
    centre = (size - 1) / 2 + rng.normal(0.0, 0.03 * size, size=(count, 1, 2))
    centre[..., 1] += 0.04 * size  # the forehead above the brows needs room
    placed = np.einsum("mij,mnj->mni", rotation, shapes * scale[:, None, None]) + centre
    factors = {"yaw": yaw, "roll_deg": roll, "mouth_open": mouth_open}
    return placed, factors


# -------------------------------------------------------------------------------- annotation

def annotate_along_curves(true_px: np.ndarray, scheme: LandmarkScheme, sigma_tangent: float,
                          sigma_normal: float, rng: np.random.Generator,
                          tangent_multipliers: dict[str, float] | None = None) -> np.ndarray:
    """Annotated landmarks: each true point moved along its curve and across it.

    Args:
        true_px: ``M x N x 2`` true landmarks in pixels.
        sigma_tangent, sigma_normal: spreads as fractions of each face's inter-ocular
            distance; the tangent offset is an arc length along the curve's spline, the normal
            offset is taken along the spline's normal at the moved position.
        tangent_multipliers: ``{curve name: factor}`` scaling ``sigma_tangent`` per curve
            (an ambiguity profile; curves not named keep 1).

    Returns:
        ``M x N x 2`` annotated landmarks.
    """
    count = true_px.shape[0]
    distance = np.asarray(normalizing_distance(true_px, scheme, "inter_ocular"))[:, None]
    annotated = true_px + rng.normal(0.0, 1.0, size=true_px.shape) * sigma_normal \
        * distance[..., None]  # points on no curve: isotropic
    dense_per_interval = 16
    for curve in scheme.curves:
        ids = np.array(curve.indices)
        dense = sample_curve_splines(torch.from_numpy(true_px[:, ids]), curve.closed,
                                     dense_per_interval, spacing="knots")
        steps = (dense[:, 1:] - dense[:, :-1]).norm(dim=-1)
        arc = torch.cat([steps.new_zeros(count, 1), steps.cumsum(1)], dim=1)       # M x D
        total = arc[:, -1:]
        knots = arc[:, ::dense_per_interval][:, :len(ids)]                        # M x n
        curve_sigma = sigma_tangent * (tangent_multipliers or {}).get(curve.name, 1.0)
        tangent_offset = torch.from_numpy(rng.normal(size=(count, len(ids)))
                                          * curve_sigma * distance)
        normal_offset = torch.from_numpy(rng.normal(size=(count, len(ids)))
                                         * sigma_normal * distance)
        position = knots + tangent_offset
        if curve.closed:
            position = torch.remainder(position, total)
        else:  # reflect at the ends
            position = torch.remainder(position, 2 * total)
            position = torch.where(position > total, 2 * total - position, position)
        segment = (torch.searchsorted(arc.contiguous(), position.contiguous()) - 1).clamp(
            0, arc.shape[1] - 2)
        start = dense.gather(1, segment[..., None].expand(-1, -1, 2))
        end = dense.gather(1, (segment + 1)[..., None].expand(-1, -1, 2))
        length = (end - start).norm(dim=-1).clamp_min(1e-12)
        fraction = ((position - arc.gather(1, segment)) / length).clamp(0, 1)[..., None]
        direction = (end - start) / length[..., None]
        normal = -rotate_90(direction)
        moved = start + fraction * (end - start) + normal_offset[..., None] * normal
        annotated[:, ids] = moved.numpy()
    return annotated


# --------------------------------------------------------------------------------- rendering
#
# A face is drawn in two steps: sample_face_style() draws every random choice (colours,
# clutter, iris offsets, occluder, blur, lighting, noise) into a FaceStyle, in a fixed order of
# generator calls, and draw_face() draws the curves in that style with no randomness left.
# Units: "image pixels" are pixels of the S x S output image, where the landmarks and curves
# live (pixel (row i, column j) is centred on x = j, y = i); "canvas pixels" are pixels of the
# SUPERSAMPLE times larger canvas the face is drawn on before it is reduced. Colours are RGB,
# 0..255; colour ranges are ``(low, high)`` with ``high`` excluded, per channel.

#: Colours of the background ramp's ends, of clutter shapes and of occluders: any colour.
BACKGROUND_COLOURS = (0, 256)
#: Number of clutter shapes on the background, both ends included.
CLUTTER_COUNT = (3, 8)
#: Range of a clutter shape's top-left corner (x and y), as fractions of the image side.
CLUTTER_ORIGIN = (-0.2, 1.0)
#: Range of a clutter shape's width and height, as fractions of the image side.
CLUTTER_EXTENT = (0.05, 0.5)
#: Chance that a clutter shape or an occluder is an ellipse rather than a rectangle.
ELLIPSE_PROB = 0.5
#: Skin colour: ``SKIN_BASE + tone * SKIN_TONE_SPAN`` with ``tone ~ U(SKIN_TONE)``, plus a
#: per-channel jitter ~ N(0, SKIN_JITTER_STD), clipped to 0..255.
SKIN_BASE = (90, 55, 35)
SKIN_TONE_SPAN = (150, 140, 120)
SKIN_TONE = (0.25, 1.0)
SKIN_JITTER_STD = 12.0
#: Shades of the skin colour (multipliers): the neck, the eye-lid lines, the nose bridge and
#: the nose base.
NECK_SHADE = 0.75
LID_SHADE = 0.35
NOSE_BRIDGE_SHADE = 0.85
NOSE_BASE_SHADE = 0.6
#: Lip colour: the skin colour times ``LIP_TINT`` per channel, plus a jitter
#: ~ N(0, LIP_JITTER_STD), clipped to 0..255.
LIP_TINT = (0.95, 0.55, 0.55)
LIP_JITTER_STD = 10.0
#: Brow colours and iris colours.
HAIR_COLOURS = (10, 120)
IRIS_COLOURS = (20, 140)
#: Fixed colours: the white of the eyes, the pupils, the mouth opening and its edge.
SCLERA_COLOUR = (235, 232, 225)
PUPIL_COLOUR = (15, 15, 15)
MOUTH_COLOUR = (60, 20, 25)
MOUTH_EDGE_COLOUR = (70, 25, 30)
#: Half the neck's width at the chin, as a fraction of the distance between the jaw's ends;
#: at its bottom (one image side below the chin) the neck is ``NECK_FLARE`` times as wide.
NECK_HALF_WIDTH = 0.3
NECK_FLARE = 1.2
#: Forehead arc: its height over the line between the jaw's ends is ``FOREHEAD_HEIGHT`` times
#: the brows' highest point over that line, and at least ``FOREHEAD_MIN_HEIGHT`` times half
#: that line's length; the arc has ``FOREHEAD_SAMPLES`` points.
FOREHEAD_HEIGHT = 1.45
FOREHEAD_MIN_HEIGHT = 0.6
FOREHEAD_SAMPLES = 24
#: Width of open (line) brows, as a fraction of the image side (filled brows have none).
BROW_WIDTH = 0.035
#: Iris radius as a fraction of the eye's width; pupil radius as a fraction of the iris's.
IRIS_RADIUS = 0.28
PUPIL_RADIUS = 0.5
#: Standard deviation of the iris centre's offset from the eye's centroid (x and y), as a
#: fraction of the eye's width.
IRIS_OFFSET_STD = 0.05
#: Widths, in image pixels, of the lid, nose-bridge and mouth-edge lines, and of the nose base.
LINE_WIDTH = 1
NOSE_BASE_WIDTH = 2
#: Range of an occluder's width and height, as fractions of the face width (the horizontal
#: extent of the jaw).
OCCLUDER_SIZE = (0.25, 0.6)
#: Chance of a Gaussian blur, and the range of its radius in pixels of a
#: ``BLUR_REFERENCE_SIZE``-pixel image (scaled with the image side).
BLUR_PROB = 0.15
BLUR_SIGMA = (0.5, 1.2)
BLUR_REFERENCE_SIZE = 128
#: Lighting: a strength ~ U(0, LIGHTING_MAX) sets a linear ramp of gains across the image from
#: ``1 - strength`` to ``1 + LIGHTING_BRIGHTEN * strength``; faces lit more strongly than
#: ``ILLUMINATION_THRESHOLD`` are tagged ``"illumination"``.
LIGHTING_MAX = 0.6
LIGHTING_BRIGHTEN = 0.4
ILLUMINATION_THRESHOLD = 0.4
#: Range of the sensor noise's standard deviation, in grey levels (0..255).
NOISE_STD = (1.0, 6.0)


@dataclass(frozen=True)
class ClutterShape:
    """An ellipse or rectangle on the background.

    Attributes:
        origin: top-left corner ``(x, y)`` of its box, as fractions of the image side.
        extent: ``(width, height)`` of its box, as fractions of the image side.
        ellipse: draw the ellipse inscribed in the box, else the box.
        fill: RGB colour.
    """

    origin: tuple[float, float]
    extent: tuple[float, float]
    ellipse: bool
    fill: tuple[int, int, int]


@dataclass(frozen=True)
class Occluder:
    """An ellipse or rectangle over the face, centred on a landmark.

    Attributes:
        extent: ``(width, height)`` of its box, as fractions of the face width (the
            horizontal extent of the jaw, in image pixels).
        landmark: index of the true landmark its box is centred on.
        fill: RGB colour.
        ellipse: draw the ellipse inscribed in the box, else the box (landmarks count as
            occluded when inside the box either way).
    """

    extent: tuple[float, float]
    landmark: int
    fill: tuple[int, int, int]
    ellipse: bool


@dataclass(frozen=True, eq=False)
class FaceStyle:
    """Every random choice in drawing one face, from :func:`sample_face_style`.

    Given a style, :func:`draw_face` is deterministic. Styles compare equal when every field
    is equal (the noise element-wise); they are not hashable.

    Attributes:
        size: side of the image in pixels.
        background: RGB colours at the two ends of the background ramp.
        background_angle: direction of the background ramp, radians.
        clutter: shapes on the background, drawn in order.
        skin: skin colour (float RGB); the neck, lid lines and nose are shades of it.
        hair: RGB colour of the brows.
        iris: RGB colour of the irises.
        iris_offsets: per eye (left, right), the iris centre's ``(x, y)`` offset from the
            eye's centroid, as fractions of the eye's width.
        lip: RGB colour of the lips.
        occluder: the occluder, or ``None``.
        blur_sigma: Gaussian blur radius in pixels of a ``BLUR_REFERENCE_SIZE``-pixel image
            (scaled with ``size``), or ``None`` for no blur.
        light_strength: lighting strength in ``[0, LIGHTING_MAX)``.
        light_angle: direction of the lighting ramp, radians.
        noise_std: standard deviation of the sensor noise, grey levels.
        noise: ``S x S x 3`` float64 sensor noise added to the lit image, grey levels
            (stored read-only).
    """

    size: int
    background: tuple[tuple[int, int, int], tuple[int, int, int]]
    background_angle: float
    clutter: tuple[ClutterShape, ...]
    skin: tuple[float, float, float]
    hair: tuple[int, int, int]
    iris: tuple[int, int, int]
    iris_offsets: tuple[tuple[float, float], tuple[float, float]]
    lip: tuple[int, int, int]
    occluder: Occluder | None
    blur_sigma: float | None
    light_strength: float
    light_angle: float
    noise_std: float
    noise: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        noise = np.array(self.noise, dtype=np.float64)
        if noise.shape != (self.size, self.size, 3):
            raise ValueError(f"noise must be {self.size} x {self.size} x 3, got {noise.shape}")
        noise.setflags(write=False)
        object.__setattr__(self, "noise", noise)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FaceStyle):
            return NotImplemented
        pairs = ((getattr(self, item.name), getattr(other, item.name)) for item in fields(self))
        return all(np.array_equal(mine, theirs) if isinstance(mine, np.ndarray)
                   else mine == theirs for mine, theirs in pairs)

    def tags(self) -> set[str]:
        """The WFLW-style attributes this style gives a face, as a new set."""
        tags = set()
        if self.occluder is not None:
            tags.add("occlusion")
        if self.blur_sigma is not None:
            tags.add("blur")
        if self.light_strength > ILLUMINATION_THRESHOLD:
            tags.add("illumination")
        return tags


def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, high, size=3))


def _pair(values: np.ndarray) -> tuple[float, float]:
    return float(values[0]), float(values[1])


def _angle(rng: np.random.Generator) -> float:
    """A direction for a colour or lighting ramp, radians."""
    return rng.uniform(0, 2 * math.pi)


def _skin(rng: np.random.Generator) -> np.ndarray:
    tone = rng.uniform(*SKIN_TONE)
    base = np.array(SKIN_BASE) + tone * np.array(SKIN_TONE_SPAN)
    return np.clip(base + rng.normal(0, SKIN_JITTER_STD, size=3), 0, 255)


def sample_face_style(rng: np.random.Generator, size: int, num_landmarks: int,
                      occlusion_prob: float) -> FaceStyle:
    """Draw every random choice in rendering one face.

    The generator is called in a fixed order (that of :class:`FaceStyle`'s fields), which
    seeded generation depends on: changing it changes every face after the first.

    Args:
        rng: the generator; it makes a few dozen draws plus ``size * size * 3`` for the noise.
        size: side of the image in pixels.
        num_landmarks: number of landmarks of the face (an occluder is centred on one).
        occlusion_prob: chance that the face gets an occluder.

    Returns:
        The style, for :func:`draw_face`.
    """
    background = (_colour(rng, *BACKGROUND_COLOURS), _colour(rng, *BACKGROUND_COLOURS))
    background_angle = _angle(rng)
    clutter = []
    for _ in range(rng.integers(CLUTTER_COUNT[0], CLUTTER_COUNT[1] + 1)):
        origin = _pair(rng.uniform(*CLUTTER_ORIGIN, size=2))
        extent = _pair(rng.uniform(*CLUTTER_EXTENT, size=2))
        ellipse = rng.random() < ELLIPSE_PROB
        clutter.append(ClutterShape(origin, extent, ellipse, _colour(rng, *BACKGROUND_COLOURS)))
    skin = _skin(rng)
    hair = _colour(rng, *HAIR_COLOURS)
    iris = _colour(rng, *IRIS_COLOURS)
    left_offset = _pair(rng.normal(0, IRIS_OFFSET_STD, 2))
    right_offset = _pair(rng.normal(0, IRIS_OFFSET_STD, 2))
    lip = np.clip(skin * np.array(LIP_TINT) + rng.normal(0, LIP_JITTER_STD, 3), 0, 255)
    occluder = None
    if rng.random() < occlusion_prob:
        extent = _pair(rng.uniform(*OCCLUDER_SIZE, size=2))
        landmark = int(rng.integers(num_landmarks))
        fill = _colour(rng, *BACKGROUND_COLOURS)
        occluder = Occluder(extent, landmark, fill, rng.random() < ELLIPSE_PROB)
    blur_sigma = None
    if rng.random() < BLUR_PROB:
        blur_sigma = rng.uniform(*BLUR_SIGMA)
    light_strength = rng.uniform(0.0, LIGHTING_MAX)
    light_angle = _angle(rng)
    noise_std = rng.uniform(*NOISE_STD)
    noise = rng.normal(0, noise_std, size=(size, size, 3))
    return FaceStyle(size, background, background_angle, tuple(clutter),
                     tuple(float(v) for v in skin), hair, iris, (left_offset, right_offset),
                     tuple(int(v) for v in lip.astype(int)), occluder, blur_sigma,
                     light_strength, light_angle, noise_std, noise)


def _gradient(size: int, angle: float, low: float, high: float) -> np.ndarray:
    """A ``size x size`` linear ramp from ``low`` to ``high`` along direction ``angle``."""
    grid = np.linspace(-1, 1, size)
    ramp = math.cos(angle) * grid[None, :] + math.sin(angle) * grid[:, None]
    return low + (high - low) * (ramp - ramp.min()) / max(np.ptp(ramp), 1e-9)


def _forehead(jaw: np.ndarray, brows: np.ndarray) -> np.ndarray:
    """An elliptic arc from the jaw's last point over the brows back to its first point."""
    start, end = jaw[0], jaw[-1]
    centre = (start + end) / 2
    across = end - start
    half_width = np.linalg.norm(across) / 2
    axis = across / max(half_width * 2, 1e-9)
    up = np.array([axis[1], -axis[0]])
    height = max(((brows - centre) @ up).max() * FOREHEAD_HEIGHT,
                 half_width * FOREHEAD_MIN_HEIGHT)
    angles = np.linspace(0, math.pi, FOREHEAD_SAMPLES)
    return centre + np.outer(np.cos(angles), axis * half_width) + np.outer(np.sin(angles),
                                                                           up * height)


def _to_canvas(points: np.ndarray) -> list[tuple[float, ...]]:
    """``K x 2`` points in image pixels -> vertices in canvas pixels, for ``ImageDraw``."""
    return [tuple(p) for p in (points + 0.5) * SUPERSAMPLE]


def _shade(skin: tuple[float, float, float], factor: float = 1.0) -> tuple[int, ...]:
    """The skin colour times ``factor``, truncated to integers."""
    return tuple((np.array(skin) * factor).astype(int))


def _draw_background(style: FaceStyle) -> Image.Image:
    """A new canvas (``SUPERSAMPLE * size`` pixels a side): a colour ramp and clutter."""
    big = style.size * SUPERSAMPLE
    first, second = np.array(style.background[0]), np.array(style.background[1])
    ramp = _gradient(big, style.background_angle, 0.0, 1.0)[..., None]
    canvas = Image.fromarray((first * (1 - ramp) + second * ramp).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for shape in style.clutter:
        x0, y0 = shape.origin[0] * big, shape.origin[1] * big
        w, h = shape.extent[0] * big, shape.extent[1] * big
        box = (x0, y0, x0 + w, y0 + h)
        (draw.ellipse if shape.ellipse else draw.rectangle)(box, fill=shape.fill)
    return canvas


def _draw_skin(canvas: Image.Image, curves: dict[str, np.ndarray], style: FaceStyle) -> None:
    """The neck, then the skin bounded by the jaw and a forehead arc over the brows."""
    jaw = curves["jaw"]
    brows = np.concatenate([curves["left_brow"], curves["right_brow"]])
    chin = jaw[len(jaw) // 2]
    neck_half = np.linalg.norm(jaw[-1] - jaw[0]) * NECK_HALF_WIDTH
    bottom = style.size  # image pixels below the chin: past the image's bottom edge
    neck = [chin + [-neck_half, -neck_half], chin + [neck_half, -neck_half],
            chin + [neck_half * NECK_FLARE, bottom], chin + [-neck_half * NECK_FLARE, bottom]]
    draw = ImageDraw.Draw(canvas)
    draw.polygon(_to_canvas(np.array(neck)), fill=_shade(style.skin, NECK_SHADE))
    outline = np.concatenate([jaw, _forehead(jaw, brows)])
    draw.polygon(_to_canvas(outline), fill=_shade(style.skin))


def _draw_brows(canvas: Image.Image, curves: dict[str, np.ndarray], scheme: LandmarkScheme,
                style: FaceStyle) -> None:
    """Closed brows filled, open ones as lines ``BROW_WIDTH`` of the image side wide."""
    width = max(1, int(BROW_WIDTH * style.size * SUPERSAMPLE))
    draw = ImageDraw.Draw(canvas)
    for name in ("left_brow", "right_brow"):
        curve = next(c for c in scheme.curves if c.name == name)
        if curve.closed:
            draw.polygon(_to_canvas(curves[name]), fill=style.hair)
        else:
            draw.line(_to_canvas(curves[name]), fill=style.hair, width=width, joint="curve")


def _draw_eyes(canvas: Image.Image, curves: dict[str, np.ndarray], style: FaceStyle) -> None:
    """Each eye: sclera with an iris and pupil, clipped to the eye, then the lid line."""
    lid = _shade(style.skin, LID_SHADE)
    draw = ImageDraw.Draw(canvas)
    for side, offset in zip(("left", "right"), style.iris_offsets, strict=True):
        eye = curves[f"{side}_eye"]
        eye_width = np.ptp(eye[:, 0])
        mask = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(mask).polygon(_to_canvas(eye), fill=255)
        iris_layer = Image.new("RGB", canvas.size, SCLERA_COLOUR)
        centre = eye.mean(axis=0) + np.array(offset) * eye_width
        radius = IRIS_RADIUS * eye_width * SUPERSAMPLE  # canvas pixels
        pupil = radius * PUPIL_RADIUS
        cx, cy = (centre + 0.5) * SUPERSAMPLE
        iris_draw = ImageDraw.Draw(iris_layer)
        iris_draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=style.iris)
        iris_draw.ellipse((cx - pupil, cy - pupil, cx + pupil, cy + pupil), fill=PUPIL_COLOUR)
        canvas.paste(iris_layer, (0, 0), mask)
        draw.line(_to_canvas(np.concatenate([eye, eye[:1]])), fill=lid,
                  width=LINE_WIDTH * SUPERSAMPLE)


def _draw_nose(canvas: Image.Image, curves: dict[str, np.ndarray], style: FaceStyle) -> None:
    """The nose bridge and the nose base, as lines in shades of the skin."""
    draw = ImageDraw.Draw(canvas)
    draw.line(_to_canvas(curves["nose_bridge"]), fill=_shade(style.skin, NOSE_BRIDGE_SHADE),
              width=LINE_WIDTH * SUPERSAMPLE, joint="curve")
    draw.line(_to_canvas(curves["nose_base"]), fill=_shade(style.skin, NOSE_BASE_SHADE),
              width=NOSE_BASE_WIDTH * SUPERSAMPLE, joint="curve")


def _draw_lips(canvas: Image.Image, curves: dict[str, np.ndarray], style: FaceStyle) -> None:
    """Filled lips, the mouth opening over them and the opening's edge."""
    inner = curves["inner_lip"]
    draw = ImageDraw.Draw(canvas)
    draw.polygon(_to_canvas(curves["outer_lip"]), fill=style.lip)
    draw.polygon(_to_canvas(inner), fill=MOUTH_COLOUR)
    draw.line(_to_canvas(np.concatenate([inner, inner[:1]])), fill=MOUTH_EDGE_COLOUR,
              width=LINE_WIDTH * SUPERSAMPLE)


def _draw_occluder(canvas: Image.Image, curves: dict[str, np.ndarray], landmarks: np.ndarray,
                   style: FaceStyle) -> np.ndarray:
    """Draw the style's occluder, if any; returns the ``N`` landmarks inside its box."""
    if style.occluder is None:
        return np.zeros(len(landmarks), dtype=bool)
    occluder = style.occluder
    face_width = np.ptp(curves["jaw"][:, 0])
    w, h = occluder.extent[0] * face_width, occluder.extent[1] * face_width
    cx, cy = landmarks[occluder.landmark]
    box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])  # image pixels
    draw = ImageDraw.Draw(canvas)
    (draw.ellipse if occluder.ellipse else draw.rectangle)(
        list((box + 0.5) * SUPERSAMPLE), fill=occluder.fill)
    return ((landmarks[:, 0] >= box[0]) & (landmarks[:, 0] <= box[2])
            & (landmarks[:, 1] >= box[1]) & (landmarks[:, 1] <= box[3]))


def _reduce(canvas: Image.Image, style: FaceStyle) -> Image.Image:
    """The canvas box-filtered down to ``size x size`` image pixels (anti-aliasing)."""
    return canvas.resize((style.size, style.size), Image.Resampling.BOX)


def _blur(image: Image.Image, style: FaceStyle) -> Image.Image:
    """The image, Gaussian-blurred if the style says so."""
    if style.blur_sigma is None:
        return image
    return image.filter(ImageFilter.GaussianBlur(style.blur_sigma * style.size
                                                 / BLUR_REFERENCE_SIZE))


def _light(image: Image.Image, style: FaceStyle) -> np.ndarray:
    """The image times the lighting ramp, as ``S x S x 3`` float64."""
    strength = style.light_strength
    light = _gradient(style.size, style.light_angle, 1.0 - strength,
                      1.0 + strength * LIGHTING_BRIGHTEN)[..., None]
    return np.asarray(image, dtype=np.float32) * light


def _add_noise(pixels: np.ndarray, style: FaceStyle) -> np.ndarray:
    """The pixels plus the style's sensor noise, rounded and clipped to uint8."""
    return np.clip(pixels + style.noise + 0.5, 0, 255).astype(np.uint8)


def draw_face(curves: dict[str, np.ndarray], landmarks: np.ndarray, scheme: LandmarkScheme,
              style: FaceStyle) -> tuple[np.ndarray, np.ndarray]:
    """Draw one face in a sampled style (deterministic: no random numbers are drawn).

    Args:
        curves: curve name -> dense ``D x 2`` spline points (image pixels) of this face.
        landmarks: ``N x 2`` true landmarks (image pixels).
        scheme: the landmark scheme (which brows are closed).
        style: from :func:`sample_face_style`.

    Returns:
        (``S x S x 3`` uint8 image, ``N`` bool occlusion flags).
    """
    canvas = _draw_background(style)
    _draw_skin(canvas, curves, style)
    _draw_brows(canvas, curves, scheme, style)
    _draw_eyes(canvas, curves, style)
    _draw_nose(canvas, curves, style)
    _draw_lips(canvas, curves, style)
    occluded = _draw_occluder(canvas, curves, landmarks, style)
    image = _blur(_reduce(canvas, style), style)
    return _add_noise(_light(image, style), style), occluded


def render_face(curves: dict[str, np.ndarray], landmarks: np.ndarray, scheme: LandmarkScheme,
                size: int, occlusion_prob: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, set[str]]:
    """Draw one face: :func:`sample_face_style`, then :func:`draw_face`.

    Args:
        curves: curve name -> dense ``D x 2`` spline points (image pixels) of this face.
        landmarks: ``N x 2`` true landmarks (image pixels).
        size: side of the image in pixels.
        occlusion_prob: chance of an occluder.

    Returns:
        (``S x S x 3`` uint8 image, ``N`` bool occlusion flags, attribute tags).
    """
    style = sample_face_style(rng, size, len(landmarks), occlusion_prob)
    image, occluded = draw_face(curves, landmarks, scheme, style)
    return image, occluded, style.tags()


# -------------------------------------------------------------------------------- generation

def _generate_chunk(config: SyntheticConfig, chunk: int, count: int) -> tuple[np.ndarray, ...]:
    scheme = get_scheme(config.scheme)
    rng = np.random.default_rng((config.seed, chunk))
    size = config.image_size
    true_px, factors = random_face_shapes(scheme, count, size, rng)
    annotated = annotate_along_curves(true_px, scheme, config.sigma_tangent,
                                      config.sigma_normal, rng, config.tangent_multipliers())
    dense = {}
    for curve in scheme.curves:
        samples = sample_curve_splines(torch.from_numpy(true_px[:, list(curve.indices)]),
                                       curve.closed, _DENSE, spacing="knots")
        dense[curve.name] = samples.numpy()
    images = np.empty((count, size, size, 3), np.uint8)
    occluded = np.zeros((count, scheme.num_points), bool)
    tags = []
    for i in range(count):
        face_curves = {name: points[i] for name, points in dense.items()}
        images[i], occluded[i], face_tags = render_face(face_curves, true_px[i], scheme, size,
                                                        config.occlusion_prob, rng)
        if abs(factors["yaw"][i]) > 0.2 or abs(factors["roll_deg"][i]) > 20:
            face_tags.add("pose")
        if factors["mouth_open"][i] > 0.05:
            face_tags.add("expression")
        tags.append(frozenset(face_tags))
    return images, true_px, annotated, occluded, np.array(tags, dtype=object)


def generate_faces(num_faces: int, config: SyntheticConfig | None = None, *,
                   workers: int | None = None, progress: bool = True) -> SyntheticFaces:
    """Generate ``num_faces`` synthetic faces (deterministic for ``config.seed``).

    Args:
        workers: processes to render with (default 1: this process). More workers are
            started with "spawn", so a script that asks for them needs the usual
            ``if __name__ == "__main__":`` guard; faces are the same whatever the count.
        progress: show a tqdm progress bar.
    """
    config = config or SyntheticConfig()
    if num_faces <= 0:
        raise UsageError(f"num_faces must be positive, got {num_faces}")
    chunks = [(k, min(CHUNK_SIZE, num_faces - k * CHUNK_SIZE))
              for k in range(math.ceil(num_faces / CHUNK_SIZE))]
    workers = min(workers or 1, len(chunks))
    bar = tqdm(total=num_faces, desc="synthetic faces", unit="face", disable=not progress)
    parts = []
    if workers <= 1:
        for chunk, count in chunks:
            parts.append(_generate_chunk(config, chunk, count))
            bar.update(count)
    else:
        # "spawn": forking a process that has started torch's thread pools can deadlock.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=torch.set_num_threads, initargs=(1,)) as pool:
            futures = [pool.submit(_generate_chunk, config, chunk, count)
                       for chunk, count in chunks]
            for future, (_, count) in zip(futures, chunks, strict=True):
                parts.append(future.result())
                bar.update(count)
    bar.close()
    images, true_px, annotated, occluded, tags = (np.concatenate(items) for items in zip(*parts,
                                                                                          strict=True))
    return SyntheticFaces(config, images, true_px, annotated, occluded, list(tags))


def curve_label_anisotropy(config: SyntheticConfig | None = None, count: int = 2000,
                           seed: int = 0) -> dict[str, float]:
    """Per curve, how far the labels of synthetic faces lean along it: the RMS of their
    tangent offsets from the true landmarks over the RMS of their normal offsets (the
    release's normals at the truth), pooled over the curve's landmarks and ``count`` face
    shapes drawn as :func:`generate_faces` draws them (no images are rendered).

    The requested ratio is ``sigma_tangent / sigma_normal`` (times the ambiguity profile's
    multiplier) everywhere; the measured one is lower on short, bent curves (eyes, brows,
    lips), where a step along the spline also moves a point across the chord's normal.
    """
    config = config or SyntheticConfig()
    scheme = get_scheme(config.scheme)
    rng = np.random.default_rng((seed, 0))
    true_px, _ = random_face_shapes(scheme, count, config.image_size, rng)
    labels = annotate_along_curves(true_px, scheme, config.sigma_tangent, config.sigma_normal,
                                   rng, config.tangent_multipliers())
    normal, tangent = (np.asarray(part) for part in decompose_errors(
        labels.astype(float), true_px.astype(float), scheme, method="official"))
    return {curve.name: float(np.sqrt((tangent[:, list(curve.indices)] ** 2).mean()
                                      / (normal[:, list(curve.indices)] ** 2).mean()))
            for curve in scheme.curves}
