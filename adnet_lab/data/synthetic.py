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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from tqdm.auto import tqdm

from adnet_lab.data.formats import WFLW_ATTRIBUTES, FaceRecord, RecordList
from adnet_lab.data.splines import sample_curve_splines
from adnet_lab.errors import UsageError
from adnet_lab.geometry import rotate_90
from adnet_lab.metrics import normalizing_distance
from adnet_lab.topology import LandmarkScheme, get_scheme, mean_face

__all__ = ["AMBIGUITY_PROFILES", "CHUNK_SIZE", "SYNTHETIC_SCHEMES", "SyntheticConfig",
           "SyntheticFaces", "annotate_along_curves", "generate_faces", "random_face_shapes",
           "render_face"]

CHUNK_SIZE = 64
SUPERSAMPLE = 2          # faces are drawn at 2x and reduced, for anti-aliased edges
_DENSE = 8               # spline samples per landmark interval for drawing

#: The schemes synthetic faces are drawn for.
SYNTHETIC_SCHEMES = ("wflw", "300w")

#: Per-curve multipliers of ``sigma_tangent`` (curves not named keep 1). ``"uniform"``: the
#: same ambiguity everywhere. ``"annotator"``: as human annotators are, vaguest along the
#: jaw (no features to anchor a point), then the nose bridge and brows, sharpest at the eyes
#: and lips, whose corners pin their points down. Its point-weighted mean on WFLW is ~1.2.
AMBIGUITY_PROFILES: dict[str, dict[str, float]] = {
    "uniform": {},
    "annotator": {"jaw": 2.0, "nose_bridge": 1.5, "left_brow": 1.0, "right_brow": 1.0,
                  "nose_base": 0.7, "left_eye": 0.4, "right_eye": 0.4, "outer_lip": 0.6,
                  "inner_lip": 0.6},
}


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate.

    Attributes:
        scheme: ``"wflw"`` or ``"300w"``.
        image_size: side of the square images in pixels (64 to 256).
        sigma_tangent, sigma_normal: annotation spread along and across the curves, as
            fractions of the inter-ocular distance (0.03 = 3%).
        occlusion_prob: chance that an occluder covers part of a face.
        seed: generation seed.
        ambiguity_profile: per-curve multipliers of ``sigma_tangent``: a name in
            :data:`AMBIGUITY_PROFILES` or ``((curve name, multiplier), ...)`` pairs.
    """

    scheme: str = "wflw"
    image_size: int = 128
    sigma_tangent: float = 0.03
    sigma_normal: float = 0.005
    occlusion_prob: float = 0.3
    seed: int = 0
    ambiguity_profile: str | tuple[tuple[str, float], ...] = "uniform"

    def __post_init__(self) -> None:
        if self.scheme not in SYNTHETIC_SCHEMES:
            names = " and ".join(map(repr, SYNTHETIC_SCHEMES))
            raise UsageError(f"synthetic faces exist for {names}, not {self.scheme!r}")
        if not 32 <= self.image_size <= 512:
            raise UsageError(f"image_size must be in [32, 512], got {self.image_size}")
        if self.sigma_tangent < 0 or self.sigma_normal < 0:
            raise UsageError("annotation sigmas must be non-negative")
        self.tangent_multipliers()  # validate the profile early

    def tangent_multipliers(self) -> dict[str, float]:
        """The ambiguity profile as ``{curve name: multiplier of sigma_tangent}``."""
        profile = self.ambiguity_profile
        if isinstance(profile, str):
            if profile not in AMBIGUITY_PROFILES:
                raise UsageError(f"unknown ambiguity profile {profile!r}; choose from "
                                 f"{sorted(AMBIGUITY_PROFILES)} or give (curve, multiplier) "
                                 "pairs")
            return dict(AMBIGUITY_PROFILES[profile])
        multipliers = dict(profile)
        names = set(get_scheme(self.scheme).curve_names)
        unknown = sorted(set(multipliers) - names)
        if unknown:
            raise UsageError(f"ambiguity profile names curves {unknown} that scheme "
                             f"{self.scheme!r} does not have ({sorted(names)})")
        if any(value < 0 for value in multipliers.values()):
            raise UsageError("ambiguity profile multipliers must be non-negative")
        return multipliers


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

def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, high, size=3))


def _skin(rng: np.random.Generator) -> np.ndarray:
    tone = rng.uniform(0.25, 1.0)
    base = np.array([90, 55, 35]) + tone * np.array([150, 140, 120])
    return np.clip(base + rng.normal(0, 12, size=3), 0, 255)


def _gradient(size: int, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    angle = rng.uniform(0, 2 * math.pi)
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
    height = max(((brows - centre) @ up).max() * 1.45, half_width * 0.6)
    angles = np.linspace(0, math.pi, 24)
    return centre + np.outer(np.cos(angles), axis * half_width) + np.outer(np.sin(angles),
                                                                           up * height)


def render_face(curves: dict[str, np.ndarray], landmarks: np.ndarray, scheme: LandmarkScheme,
                size: int, occlusion_prob: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, set[str]]:
    """Draw one face.

    Args:
        curves: curve name -> dense ``D x 2`` spline points (pixels) of this face.
        landmarks: ``N x 2`` true landmarks (pixels).

    Returns:
        (``S x S x 3`` uint8 image, ``N`` bool occlusion flags, attribute tags).
    """
    big = size * SUPERSAMPLE
    tags: set[str] = set()
    scale = lambda points: [tuple(p) for p in (points + 0.5) * SUPERSAMPLE]  # noqa: E731
    # Background: a colour ramp and clutter.
    first, second = np.array(_colour(rng)), np.array(_colour(rng))
    ramp = _gradient(big, rng, 0.0, 1.0)[..., None]
    canvas = Image.fromarray((first * (1 - ramp) + second * ramp).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.integers(3, 9)):
        x0, y0 = rng.uniform(-0.2, 1.0, size=2) * big
        w, h = rng.uniform(0.05, 0.5, size=2) * big
        shape = (x0, y0, x0 + w, y0 + h)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(shape, fill=_colour(rng))
    # Face: neck, skin bounded by the jaw and a forehead arc.
    skin = _skin(rng)
    jaw = curves["jaw"]
    brows = np.concatenate([curves["left_brow"], curves["right_brow"]])
    chin = jaw[len(jaw) // 2]
    neck_half = np.linalg.norm(jaw[-1] - jaw[0]) * 0.3
    neck = [chin + [-neck_half, -neck_half], chin + [neck_half, -neck_half],
            chin + [neck_half * 1.2, size], chin + [-neck_half * 1.2, size]]
    draw.polygon(scale(np.array(neck)), fill=tuple((skin * 0.75).astype(int)))
    outline = np.concatenate([jaw, _forehead(jaw, brows)])
    draw.polygon(scale(outline), fill=tuple(skin.astype(int)))
    hair = _colour(rng, 10, 120)
    # Brows.
    brow_width = max(1, int(0.035 * size * SUPERSAMPLE))
    for name in ("left_brow", "right_brow"):
        curve = next(c for c in scheme.curves if c.name == name)
        if curve.closed:
            draw.polygon(scale(curves[name]), fill=hair)
        else:
            draw.line(scale(curves[name]), fill=hair, width=brow_width, joint="curve")
    # Eyes: sclera, iris clipped to the eye, lid line.
    iris_colour = _colour(rng, 20, 140)
    lid = tuple((skin * 0.35).astype(int))
    for side in ("left", "right"):
        eye = curves[f"{side}_eye"]
        mask = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(mask).polygon(scale(eye), fill=255)
        iris_layer = Image.new("RGB", canvas.size, (235, 232, 225))
        centre = eye.mean(axis=0) + rng.normal(0, 0.05, 2) * np.ptp(eye[:, 0])
        radius = 0.28 * np.ptp(eye[:, 0]) * SUPERSAMPLE
        cx, cy = (centre + 0.5) * SUPERSAMPLE
        iris_draw = ImageDraw.Draw(iris_layer)
        iris_draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=iris_colour)
        iris_draw.ellipse((cx - radius / 2, cy - radius / 2, cx + radius / 2, cy + radius / 2),
                          fill=(15, 15, 15))
        canvas.paste(iris_layer, (0, 0), mask)
        draw.line(scale(np.concatenate([eye, eye[:1]])), fill=lid, width=SUPERSAMPLE)
    # Nose.
    nose_colour = tuple((skin * 0.6).astype(int))
    draw.line(scale(curves["nose_bridge"]), fill=tuple((skin * 0.85).astype(int)),
              width=SUPERSAMPLE, joint="curve")
    draw.line(scale(curves["nose_base"]), fill=nose_colour, width=2 * SUPERSAMPLE,
              joint="curve")
    # Lips and the mouth opening.
    lip = np.clip(skin * [0.95, 0.55, 0.55] + rng.normal(0, 10, 3), 0, 255).astype(int)
    draw.polygon(scale(curves["outer_lip"]), fill=tuple(lip))
    draw.polygon(scale(curves["inner_lip"]), fill=(60, 20, 25))
    draw.line(scale(np.concatenate([curves["inner_lip"], curves["inner_lip"][:1]])),
              fill=(70, 25, 30), width=SUPERSAMPLE)
    # Occluder.
    occluded = np.zeros(len(landmarks), dtype=bool)
    if rng.random() < occlusion_prob:
        face_size = np.ptp(jaw[:, 0])
        w, h = rng.uniform(0.25, 0.6, size=2) * face_size
        cx, cy = landmarks[rng.integers(len(landmarks))]
        box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        fill = _colour(rng)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(
            [(box[0] + 0.5) * SUPERSAMPLE, (box[1] + 0.5) * SUPERSAMPLE,
             (box[2] + 0.5) * SUPERSAMPLE, (box[3] + 0.5) * SUPERSAMPLE], fill=fill)
        occluded = ((landmarks[:, 0] >= box[0]) & (landmarks[:, 0] <= box[2])
                    & (landmarks[:, 1] >= box[1]) & (landmarks[:, 1] <= box[3]))
        tags.add("occlusion")
    image = canvas.resize((size, size), Image.Resampling.BOX)
    if rng.random() < 0.15:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2) * size / 128))
        tags.add("blur")
    # Lighting and sensor noise.
    strength = rng.uniform(0.0, 0.6)
    if strength > 0.4:
        tags.add("illumination")
    light = _gradient(size, rng, 1.0 - strength, 1.0 + strength * 0.4)[..., None]
    pixels = np.asarray(image, dtype=np.float32) * light
    pixels += rng.normal(0, rng.uniform(1.0, 6.0), size=pixels.shape)
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8), occluded, tags


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
