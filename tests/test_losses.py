from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from adnet_lab.core.configs import ObjectiveConfig
from adnet_lab.core.geometry import curve_normals
from adnet_lab.core.topology import get_scheme
from adnet_lab.data.targets import make_targets
from adnet_lab.model import ADNet, ADNetConfig
from adnet_lab.training.losses import (
    ADNetObjective,
    AnisotropicDirectionLoss,
    AWingLoss,
    AWingTarget,
    SmoothL1Loss,
    STARLoss,
    WingLoss,
    anisotropic_direction_loss,
    awing_loss,
    l1_loss,
    l2_loss,
    smooth_l1_loss,
    star_loss,
    wing_loss,
)


@pytest.fixture(scope="module")
def golden(reference_dir):
    return {k: torch.from_numpy(v) for k, v in np.load(reference_dir / "golden_losses.npz").items()}


def _adl_case(golden, k, dtype=torch.float32):
    return [golden[f"adl{k}_{name}"].to(dtype) for name in ("pred", "gt", "heatmap", "landmarks")]


def _reference_adl(pred, gt, lam_fn, scale=0.01):
    """Point-by-point reading of the release's formula (numpy, float64)."""
    pred, gt = pred.double().numpy(), gt.double().numpy()
    normals = curve_normals(gt, "300w", "official")
    total = []
    for b in range(pred.shape[0]):
        for k in range(pred.shape[1]):
            error, n = pred[b, k] - gt[b, k], normals[b, k]
            t = np.array([-n[1], n[0]])
            fn, ft = error @ n, error @ t
            lam = lam_fn(fn, ft)
            if np.linalg.norm(n) < 0.5:
                d2 = error @ error
            else:
                d2 = 2 * lam / (lam + 1) * fn**2 + 2 / (lam + 1) * ft**2
            d = math.sqrt(max(d2, 1e-128))
            total.append(0.5 / scale * d2 if d < scale else d - 0.5 * scale)
    return float(np.mean(total))


class TestAnisotropicDirectionLoss:
    @pytest.mark.parametrize("k", [0, 1, 2])
    def test_golden_parity_heatmap_lambda(self, golden, k):
        pred, gt, heatmap, landmarks = _adl_case(golden, k)
        value = anisotropic_direction_loss(pred, gt, "300w", "heatmap", heatmap, landmarks)
        assert value.item() == pytest.approx(golden[f"adl{k}_loss"].item(), rel=1e-5)
        value64 = anisotropic_direction_loss(*_adl_case(golden, k, torch.float64)[:2], "300w",
                                             "heatmap", *_adl_case(golden, k, torch.float64)[2:])
        assert value64.item() == pytest.approx(golden[f"adl{k}_loss"].item(), rel=1e-5)

    @pytest.mark.parametrize("k", [0, 1, 2])
    def test_fixed_and_dynamic_match_the_pointwise_formula(self, golden, k):
        pred, gt, _, _ = _adl_case(golden, k, torch.float64)
        fixed = anisotropic_direction_loss(pred, gt, "300w", "fixed", loss_lambda=2.0)
        assert fixed.item() == pytest.approx(_reference_adl(pred, gt, lambda n, t: 2.0), rel=1e-9)
        dynamic = anisotropic_direction_loss(pred, gt, "300w", "dynamic")
        expected = _reference_adl(pred, gt,
                                  lambda n, t: min(max(t**2 / max(n**2, 1e-6), 1.0), 9.0))
        assert dynamic.item() == pytest.approx(expected, rel=1e-9)

    def test_lambda_one_is_the_isotropic_smooth_l1(self, golden):
        pred, gt, _, _ = _adl_case(golden, 1, torch.float64)
        torch.testing.assert_close(
            anisotropic_direction_loss(pred, gt, "300w", "fixed", loss_lambda=1.0),
            smooth_l1_loss(pred, gt))

    def test_normal_errors_cost_more_than_tangent_errors(self, golden):
        gt = golden["adl0_gt"].double()
        normals = curve_normals(gt, "300w", "official")
        tangents = torch.stack([-normals[..., 1], normals[..., 0]], -1)
        along_normal = anisotropic_direction_loss(gt + 0.05 * normals, gt, "300w", "fixed")
        along_tangent = anisotropic_direction_loss(gt + 0.05 * tangents, gt, "300w", "fixed")
        # alpha / beta = lambda = 2 in the squared distance; linear branch: sqrt(2) ratio.
        assert along_normal / along_tangent == pytest.approx(
            (math.sqrt(4 / 3) * 0.05 - 0.005) / (math.sqrt(2 / 3) * 0.05 - 0.005), rel=1e-6)

    @pytest.mark.parametrize("mode", ["fixed", "dynamic", "heatmap"])
    def test_gradcheck(self, golden, mode):
        pred, gt, heatmap, landmarks = _adl_case(golden, 2, torch.float64)
        if mode == "dynamic":
            # The dynamic lambda is detached: finite differences only agree with autograd
            # where it is clamped (constant), so errors lie mostly along n (lambda 1) or
            # along t (lambda 9).
            normals = curve_normals(gt, "300w", "official")
            tangents = torch.stack([-normals[..., 1], normals[..., 0]], -1)
            mostly_normal = torch.arange(68) % 2 == 0
            pred = gt + torch.where(mostly_normal[None, :, None], 0.03 * normals + 0.002 * tangents,
                                    0.002 * normals + 0.03 * tangents)
        pred = pred[:1, :, :].clone().requires_grad_()
        assert torch.autograd.gradcheck(
            lambda p: anisotropic_direction_loss(p, gt[:1], "300w", mode, heatmap[:1],
                                                 landmarks[:1]), (pred,))

    def test_no_nan_gradient_at_zero_error(self, golden):
        gt = golden["adl0_gt"]
        pred = gt.clone().requires_grad_()
        anisotropic_direction_loss(pred, gt, "300w", "fixed").backward()
        assert torch.isfinite(pred.grad).all()

    def test_module(self, golden):
        pred, gt, heatmap, landmarks = _adl_case(golden, 0)
        module = AnisotropicDirectionLoss("300w")
        torch.testing.assert_close(module(pred, gt, heatmap, landmarks),
                                   anisotropic_direction_loss(pred, gt, "300w", "heatmap",
                                                              heatmap, landmarks))

    def test_exception(self, golden):
        pred, gt, heatmap, _ = _adl_case(golden, 0)
        with pytest.raises(ValueError, match="needs heatmap"):
            anisotropic_direction_loss(pred, gt, "300w", "heatmap")
        with pytest.raises(ValueError, match="lambda_mode must be"):
            anisotropic_direction_loss(pred, gt, "300w", "static")
        with pytest.raises(ValueError, match="shapes must be the same"):
            anisotropic_direction_loss(pred[:1], gt, "300w", "fixed")
        with pytest.raises(ValueError, match="must match B x N"):
            anisotropic_direction_loss(pred, gt, "300w", "heatmap", heatmap[:, :5], pred)


class TestAWing:
    def test_golden_parity(self, golden):
        value = awing_loss(golden["awing_pred"], golden["awing_gt"])
        assert value.item() == pytest.approx(golden["awing_loss"].item(), rel=1e-5)

    def test_known_value(self):
        # Zero error costs nothing; below theta the loss is omega ln(1 + d^(alpha - y)).
        target = torch.zeros(1, 1, 5, 5)
        assert awing_loss(target, target).item() == 0.0
        pred = torch.full((1, 1, 5, 5), 0.1)
        expected = 14 * math.log1p(0.1**2.1)  # weight map 1 (target < 0.2)
        assert awing_loss(pred, target).item() == pytest.approx(expected, rel=1e-6)

    def test_weight_map(self):
        target = torch.zeros(1, 1, 5, 5)
        target[0, 0, 2, 2] = 0.5
        pred = target + 0.1
        weighted = awing_loss(pred, target)
        plain = awing_loss(pred, target, use_weight_map=False)
        # The 3x3 neighbourhood of the peak (9 of 25 pixels) weighs 11.
        y = torch.zeros(1, 1, 5, 5)
        y[0, 0, 2, 2] = 0.5
        per_pixel = 14 * torch.log1p(torch.tensor(0.1) ** (2.1 - y))
        weights = torch.ones(1, 1, 5, 5)
        weights[0, 0, 1:4, 1:4] = 11
        assert weighted.item() == pytest.approx((per_pixel * weights).mean().item(), rel=1e-6)
        assert plain.item() == pytest.approx(per_pixel.mean().item(), rel=1e-6)

    def test_gradcheck(self):
        torch.manual_seed(0)
        target = torch.rand(1, 2, 6, 6, dtype=torch.float64)
        pred = (target + torch.rand_like(target) * 0.8 - 0.4).requires_grad_()
        assert torch.autograd.gradcheck(lambda p: awing_loss(p, target), (pred,))

    def test_module(self, golden):
        torch.testing.assert_close(AWingLoss()(golden["awing_pred"], golden["awing_gt"]),
                                   awing_loss(golden["awing_pred"], golden["awing_gt"]))

    def test_exception(self):
        with pytest.raises(ValueError, match="maps must be B x C x H x W"):
            awing_loss(torch.zeros(2, 3), torch.zeros(2, 3))


class TestCoordinateLosses:
    def test_known_values(self):
        gt = torch.zeros(1, 2, 2)
        pred = torch.tensor([[[0.003, 0.004], [0.3, 0.4]]])  # errors 0.005 and 0.5
        assert smooth_l1_loss(pred, gt).item() == pytest.approx(
            (0.5 / 0.01 * 0.005**2 + 0.5 - 0.005) / 2)
        assert l2_loss(pred, gt).item() == pytest.approx((0.005**2 + 0.25) / 2)
        assert l1_loss(pred, gt).item() == pytest.approx((0.003 + 0.004 + 0.3 + 0.4) / 4)
        big = torch.tensor([[[20.0, 0.0]]])
        constant = 10 - 10 * math.log(6)
        assert wing_loss(big, torch.zeros(1, 1, 2)).item() == pytest.approx((20 - constant) / 2)
        assert wing_loss(pred, gt, omega=0.1, epsilon=0.02).item() == pytest.approx(
            np.mean([0.1 * math.log1p(v / 0.02) for v in (0.003, 0.004, 0.3, 0.4)
                     if v < 0.1] + [v - (0.1 - 0.1 * math.log(6)) for v in (0.3, 0.4)]))

    @pytest.mark.parametrize("loss", [smooth_l1_loss, l1_loss, l2_loss,
                                      lambda p, g: wing_loss(p, g, 0.1, 0.02)])
    def test_gradcheck(self, loss):
        torch.manual_seed(1)
        gt = torch.rand(2, 5, 2, dtype=torch.float64)
        pred = (gt + torch.randn_like(gt) * 0.05).requires_grad_()
        assert torch.autograd.gradcheck(lambda p: loss(p, gt), (pred,))

    def test_modules(self):
        gt = torch.zeros(1, 3, 2)
        pred = torch.rand(1, 3, 2)
        torch.testing.assert_close(SmoothL1Loss()(pred, gt), smooth_l1_loss(pred, gt))
        torch.testing.assert_close(WingLoss(0.1, 0.02)(pred, gt), wing_loss(pred, gt, 0.1, 0.02))


def _reference_star(heatmap, gt, w=1.0, scale=0.01, eps=1e-5):
    heatmap, gt = heatmap.double().numpy(), gt.double().numpy()
    _, _, h, width = heatmap.shape
    ys, xs = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, width), indexing="ij")
    terms, eigen_terms = [], []
    for b in range(heatmap.shape[0]):
        for n in range(heatmap.shape[1]):
            weights = heatmap[b, n] / max(heatmap[b, n].sum(), 1e-6)
            mean = np.array([(weights * xs).sum(), (weights * ys).sum()])
            d = np.stack([xs - mean[0], ys - mean[1]], -1).reshape(-1, 2)
            cov = (weights.reshape(-1, 1, 1) * d[:, :, None] * d[:, None, :]).sum(0)
            cov /= 1 - (weights**2).sum()
            values, vectors = np.linalg.eigh(cov)
            projection = vectors.T @ (gt[b, n] - mean)
            smooth = [0.5 / scale * p**2 if abs(p) < scale else abs(p) - 0.5 * scale
                      for p in projection]
            terms.append(sum(s / math.sqrt(v + eps) for s, v in zip(smooth, values, strict=True)))
            eigen_terms.append(np.abs(values).sum())
    return np.mean(terms) + w * np.mean(eigen_terms)


class TestSTAR:
    def test_matches_independent_implementation(self, golden):
        heatmap = golden["adl1_heatmap"][:, :6]
        gt = golden["adl1_gt"][:, :6]
        assert star_loss(heatmap, gt).item() == pytest.approx(_reference_star(heatmap, gt),
                                                              rel=1e-4)

    def test_gradcheck(self, golden):
        heatmap = golden["adl0_heatmap"][:1, :3, ::4, ::4].double().clone().requires_grad_()
        gt = golden["adl0_gt"][:1, :3].double()
        assert torch.autograd.gradcheck(lambda h: star_loss(h, gt), (heatmap,))

    def test_module_and_exception(self, golden):
        heatmap, gt = golden["adl0_heatmap"], golden["adl0_gt"]
        torch.testing.assert_close(STARLoss()(heatmap, gt), star_loss(heatmap, gt))
        with pytest.raises(ValueError, match="heatmap must be B x N x H x W"):
            star_loss(heatmap, gt[:, :3])


@pytest.fixture
def batch():
    torch.manual_seed(0)
    model = ADNet(ADNetConfig.preset("cpu-tiny", scheme="300w", num_stacks=2))
    output = model(torch.randn(2, 3, 64, 64))
    targets = {"landmarks": torch.rand(2, 68, 2) * 1.6 - 0.8,
               "edge_maps": torch.rand(2, 9, 16, 16),
               "point_maps": torch.rand(2, 68, 16, 16)}
    return output, targets


class TestObjective:
    def test_release_weights(self, batch):
        output, targets = batch
        total, terms = ADNetObjective("300w", 2)(output, targets)
        expected_landmarks = sum(
            w * anisotropic_direction_loss(output.stack_landmarks[i], targets["landmarks"],
                                           "300w", "heatmap", output.attention,
                                           output.landmarks)
            for i, w in enumerate([0.5, 1.0]))
        expected_edges = sum(w * 10 * awing_loss(output.edge_maps[i], targets["edge_maps"])
                             for i, w in enumerate([0.5, 1.0]))
        torch.testing.assert_close(terms["landmarks"], expected_landmarks)
        torch.testing.assert_close(terms["edge_maps"], expected_edges)
        torch.testing.assert_close(total, sum(terms.values()))
        total.backward()

    def test_baseline_without_adl_or_aam(self, batch):
        output, targets = batch
        objective = ADNetObjective("300w", 2, use_adl=False, use_aam=False)
        total, terms = objective(output, targets)
        assert set(terms) == {"landmarks"}
        expected = 0.5 * smooth_l1_loss(output.stack_landmarks[0], targets["landmarks"]) \
            + smooth_l1_loss(output.stack_landmarks[1], targets["landmarks"])
        torch.testing.assert_close(total, expected)

    def test_stack_weights_of_the_release(self, official_config):
        assert ADNetObjective("wflw", 4).stack_weights == [0.125, 0.25, 0.5, 1.0]
        weights = official_config["WFLW"]["loss_weights"]
        assert weights[::3] == [0.125, 0.25, 0.5, 1.0]
        assert weights[1::3] == [10 * w for w in weights[::3]]

    def test_wrong_stack_count(self, batch):
        with pytest.raises(ValueError, match="expected 4 stacks, got 2"):
            ADNetObjective(get_scheme("300w"), 4)(*batch)


def test_heatmap_centres_are_where_the_spread_is_measured(batch):
    output, targets = batch
    pred, gt = output.stack_landmarks[0], targets["landmarks"]
    at_predictions = anisotropic_direction_loss(pred, gt, "300w", "heatmap",
                                                output.final_fused_heatmaps,
                                                heatmap_centres=output.landmarks)
    at_truth = anisotropic_direction_loss(pred, gt, "300w", "heatmap",
                                          output.final_fused_heatmaps, heatmap_centres=gt)
    assert not torch.allclose(at_predictions, at_truth)
    with pytest.raises(ValueError, match="needs heatmap"):
        anisotropic_direction_loss(pred, gt, "300w", "heatmap")


def test_adl_landscape_follows_the_closed_form_of_the_loss():
    from adnet_lab.evaluation.analysis import adl_landscape
    from adnet_lab.training.losses import SMOOTH_L1_KNEE

    lam, s = 4.0, SMOOTH_L1_KNEE
    land = adl_landscape(lam, extent_percent=3.0, steps=31)
    alpha, beta = 2 * lam / (lam + 1), 2 / (lam + 1)
    unit = s / land["knee"]                                 # normalised units per percent
    normal, tangent = np.meshgrid(land["normal"] * unit, land["tangent"] * unit)
    distance2 = alpha * normal**2 + beta * tangent**2
    expected = np.where(distance2 < s**2, 0.5 / s * distance2, np.sqrt(distance2) - s / 2)
    np.testing.assert_allclose(land["loss"], expected, atol=1e-12)
    inside = distance2 < s**2
    np.testing.assert_allclose(land["grad_normal"][inside], (alpha * normal / s)[inside],
                               atol=1e-9)
    np.testing.assert_allclose(land["grad_tangent"][inside], (beta * tangent / s)[inside],
                               atol=1e-9)
    centre = 15
    assert land["loss"][centre, centre] == 0 and land["knee_loss"] == s / 2
    # Inside the knee a normal error costs lambda times what the same tangent error costs.
    assert land["loss"][centre, centre + 2] == pytest.approx(lam * land["loss"][centre + 2,
                                                                                centre])
    with pytest.raises(ValueError, match="landmark 96 of wflw lies on no curve"):
        adl_landscape(lam, landmark=96)


def test_map_spread_measures_an_elongated_gaussian_in_the_curve_frame():
    from adnet_lab.training.losses import map_spread

    size, angle = 64, 0.6
    normal = torch.tensor([math.cos(angle), math.sin(angle)], dtype=torch.float64)
    tangent = torch.tensor([-normal[1], normal[0]])
    grid = torch.linspace(-1, 1, size, dtype=torch.float64)      # the heatmap grid
    ys, xs = torch.meshgrid(grid, grid, indexing="ij")
    centre = torch.tensor([0.1, -0.05], dtype=torch.float64)
    offsets = torch.stack([xs - centre[0], ys - centre[1]], -1)
    sigma_n, sigma_t = 0.06, 0.18
    heatmap = torch.exp(-(offsets @ normal) ** 2 / (2 * sigma_n**2)
                        - (offsets @ tangent) ** 2 / (2 * sigma_t**2))
    normal_spread, tangent_spread = map_spread(heatmap[None, None], centre[None, None],
                                               normal[None, None])
    assert normal_spread.shape == (1, 1)
    assert normal_spread.item() == pytest.approx(sigma_n**2, rel=0.02)
    assert tangent_spread.item() == pytest.approx(sigma_t**2, rel=0.02)


class TestAWingTarget:
    """The target-only part of AWing, computed once per step and shared by the stacks."""

    @staticmethod
    def _release_formula(pred, target, omega=14.0, theta=0.5, epsilon=1.0, alpha=2.1):
        difference = (pred - target).abs()
        power = alpha - target
        a = omega / (1 + (theta / epsilon) ** power) * power \
            * (theta / epsilon) ** (power - 1) / epsilon
        c = theta * a - omega * torch.log1p((theta / epsilon) ** power)
        small = omega * torch.log1p((difference / epsilon) ** power)
        loss = torch.where(difference < theta, small, a * difference - c)
        dilated = torch.nn.functional.max_pool2d(target, 3, 1, 1)
        return (loss * (10 * (dilated >= 0.2).double() + 1)).mean()

    def test_shared_target_gives_the_release_formulas_value_and_gradient(self):
        generator = torch.Generator().manual_seed(3)
        target = torch.rand(2, 5, 8, 8, generator=generator, dtype=torch.float64)
        pred = (target + 0.8 * torch.randn(2, 5, 8, 8, generator=generator,
                                           dtype=torch.float64)).requires_grad_()
        shared = AWingTarget.of(target)
        mine = awing_loss(pred, shared)
        (mine_grad,) = torch.autograd.grad(mine, pred)
        release = self._release_formula(pred, target)
        (release_grad,) = torch.autograd.grad(release, pred)
        torch.testing.assert_close(mine, release, rtol=1e-12, atol=0)
        torch.testing.assert_close(mine_grad, release_grad, rtol=1e-10, atol=1e-15)
        assert torch.equal(awing_loss(pred, shared), awing_loss(pred, target))

    def test_shared_target_checks_the_shape(self):
        with pytest.raises(ValueError):
            awing_loss(torch.zeros(1, 2, 4, 4), AWingTarget.of(torch.zeros(1, 3, 4, 4)))

    def test_weight_map_is_the_release_max_pool_threshold_cell_for_cell(self):
        # foreground cells at the borders and corners, isolated and touching, and a map
        # whose values sit exactly on the threshold
        generator = torch.Generator().manual_seed(5)
        target = torch.rand(3, 4, 7, 9, generator=generator) ** 6
        target[0, 0, 0, 0] = target[0, 1, -1, -1] = target[1, 2, 3, 0] = 0.9
        target[2, 3] = 0.2
        dilated = torch.nn.functional.max_pool2d(target, 3, 1, 1)
        release = 10 * (dilated >= 0.2).float() + 1
        assert torch.equal(AWingTarget.of(target).weight, release)
        assert torch.equal(AWingTarget.of(torch.zeros(1, 1, 1, 1)).weight, torch.ones(1, 1, 1, 1))

    def test_channels_last_maps_give_the_same_gradient(self):
        # the objective lays the targets out as the network's maps are; the gradient is
        # the same to the bit in either layout
        generator = torch.Generator().manual_seed(6)
        target = torch.rand(2, 6, 8, 8, generator=generator) ** 4
        pred = torch.rand(2, 6, 8, 8, generator=generator)
        grads = []
        for layout in (torch.contiguous_format, torch.channels_last):
            p = pred.clone(memory_format=layout).requires_grad_()
            awing_loss(p, AWingTarget.of(target.contiguous(memory_format=layout))).backward()
            grads.append(p.grad.contiguous())
        assert torch.equal(grads[0], grads[1])


def test_point_map_scale_weights_the_point_map_term_alone():
    """``point_map_scale`` multiplies the point-map term and nothing else."""
    config = ADNetConfig(scheme="wflw", num_stacks=2, channels=16, input_size=64)
    torch.manual_seed(0)
    model = ADNet(config)
    landmarks = 8 + 48 * torch.rand(2, 98, 2)
    targets = make_targets(landmarks, "wflw", 64)
    output = model(torch.randn(2, 3, 64, 64))
    terms = {}
    for scale in (1.0, 10.0):
        objective = ADNetObjective.from_config(
            ObjectiveConfig(lambda_mode="fixed", loss_lambda=4.0, map_weight=0.1,
                            point_map_scale=scale), config)
        terms[scale] = objective(output, targets)[1]
    torch.testing.assert_close(terms[10.0]["point_maps"], 10 * terms[1.0]["point_maps"])
    assert torch.equal(terms[10.0]["edge_maps"], terms[1.0]["edge_maps"])
    assert torch.equal(terms[10.0]["landmarks"], terms[1.0]["landmarks"])
