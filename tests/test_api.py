"""The one-way-in API: load_model, train_step, the top-level names, single sources of facts
and functions that leave their callers' objects and the global state alone."""

from __future__ import annotations

import ast
import copy
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import adnet_lab
from adnet_lab import (
    ADNet,
    ADNetConfig,
    ADNetObjective,
    FaceAlignmentDataset,
    NormalTangentAccumulator,
    SyntheticConfig,
    TrainConfig,
    decompose_errors,
    generate_faces,
    load_model,
    mean_face,
    normalizing_distance,
    predict,
    rms,
    train,
    train_step,
)
from adnet_lab.core.conventions import heatmap_grid
from adnet_lab.model import CheckpointError, evaluation_mode, save_official_checkpoint
from adnet_lab.model.layers import coordinate_channels
from adnet_lab.model.network import soft_argmax
from adnet_lab.training.loop import make_optimizer

ROOT = Path(__file__).resolve().parents[1]
TINY = ADNetConfig(scheme="wflw", num_stacks=2, channels=16, input_size=64, depth=2)


@pytest.fixture(scope="module")
def faces():
    return generate_faces(16, SyntheticConfig(image_size=64, seed=21), progress=False)


@pytest.fixture(scope="module")
def dataset(faces):
    return FaceAlignmentDataset(faces.records(), "wflw", input_size=64)


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(model=TINY, epochs=1, batch_size=8, seed=3)
    return train(dataset, config, out_dir=out, progress=False), out


# ------------------------------------------------------------------------------ top level

def test_every_public_name_resolves_and_heavy_modules_load_lazily():
    for name in adnet_lab.__all__:
        assert getattr(adnet_lab, name) is not None, name
    assert set(adnet_lab.__all__) <= set(dir(adnet_lab))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        adnet_lab.nothing_here  # noqa: B018
    code = ("import sys, adnet_lab; "
            "print(json.dumps(sorted(m for m in ('ipywidgets', 'matplotlib.pyplot', "
            "'adnet_lab.views.widgets', 'adnet_lab.figures.plots') if m in sys.modules)))")
    found = subprocess.run([sys.executable, "-c", "import json; " + code], check=True,
                           capture_output=True, text=True).stdout
    assert json.loads(found) == []
    # train and evaluate are functions; their modules are training and evaluation.
    training = importlib.import_module("adnet_lab.training.loop")
    importlib.import_module("adnet_lab.evaluation.inference")
    assert callable(adnet_lab.train) and callable(adnet_lab.evaluate)
    assert adnet_lab.train is training.train and adnet_lab.train.__module__ == training.__name__
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("adnet_lab.train")


def test_notebooks_import_only_the_top_level_api():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "adnet_lab."):
                    pytest.fail(f"{path.name} imports from {node.module}: use `from "
                                f"adnet_lab import ...`")
                if isinstance(node, ast.ImportFrom) and node.module == "adnet_lab":
                    for alias in node.names:
                        assert alias.name in adnet_lab.__all__, (path.name, alias.name)


#: docs/architecture.md's floors, bottom up: the package's subpackages. A module imports only
#: from its own subpackage or the floors below it, at module level and inside functions
#: alike (within a subpackage, test_no_import_cycles_between_modules keeps the order).
FLOORS = [
    {"core"},
    {"data", "model"},
    {"training"},
    {"evaluation"},
    {"figures"},
    {"studies"},
    {"views", "cli", ""},
]
#: Imports that point up the floors on purpose, each with its reason: (module, target).
#: None are needed today.
ALLOWED_UPWARD: set[tuple[str, str]] = set()


def _floor_of(module: str) -> str:
    """The subpackage a module (dotted, without ``adnet_lab.``) lives in; ``""``: the top."""
    return module.split(".", 1)[0]


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``from adnet_lab... import`` in a file, at any depth, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("adnet_lab"):
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names
                      if alias.name.startswith("adnet_lab")]
    return found


def test_modules_import_only_from_their_floor_or_below():
    rank = {name: index for index, floor in enumerate(FLOORS) for name in floor}
    package = ROOT / "adnet_lab"
    wrong = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package).with_suffix("").parts)
        module = module.removesuffix("__init__").rstrip(".")
        floor = _floor_of(module)
        assert floor in rank, f"{module}: {floor!r} is not one of docs/architecture.md's floors"
        assert path.parent != package or module == "", (
            f"{path.name} sits beside adnet_lab/__init__.py: put it in a floor's subpackage")
        for imported, line in _imports(path):
            target = _floor_of(imported.removeprefix("adnet_lab").lstrip("."))
            if rank[target] > rank[floor] and (module, target) not in ALLOWED_UPWARD:
                wrong.append(f"{path.relative_to(package)}:{line}: {module} imports {imported}")
    assert not wrong, "imports from a floor above:\n" + "\n".join(wrong)


def test_the_floor_test_catches_an_import_from_above(tmp_path):
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from adnet_lab.studies.demo import run_demo\n")
    assert _imports(source) == [("adnet_lab.studies.demo", 2)]
    rank = {name: index for index, floor in enumerate(FLOORS) for name in floor}
    assert rank[_floor_of("studies.demo")] > rank[_floor_of("evaluation.stats")]


def test_modules_moved_into_the_floors_keep_their_earlier_names():
    import adnet_lab.metrics
    import adnet_lab.runner
    from adnet_lab.experiments import run_ablation

    assert adnet_lab.metrics is importlib.import_module("adnet_lab.core.metrics")
    assert adnet_lab.runner.run_ablation is run_ablation
    assert importlib.import_module("adnet_lab.training").train is adnet_lab.train


def test_the_layer_test_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "example.py"
    source.write_text("def f():\n    from adnet_lab.studies.demo import run_demo\n")
    assert _imports(source) == [("adnet_lab.studies.demo", 2)]


def test_no_import_cycles_between_modules():
    """Module-level imports between the package's modules form no cycle."""
    package = ROOT / "adnet_lab"
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package).with_suffix("").parts).removesuffix(
            ".__init__")
        body = ast.parse(path.read_text()).body
        graph[module] = {node.module.removeprefix("adnet_lab.") for node in body
                         if isinstance(node, ast.ImportFrom)
                         and (node.module or "").startswith("adnet_lab.")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in graph.get(node, ()):
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join([*trail, node, target]))
            if target in graph and not state.get(target):
                visit(target, [*trail, node])
        state[node] = 2

    for module in graph:
        if not state.get(module):
            visit(module, [])


def test_command_line_parses_without_torch_pandas_or_scipy():
    """--help and --version answer fast because parsing imports none of the heavy
    libraries (benchmarks/run.py times it)."""
    code = ("import sys; from adnet_lab.cli.app import _build_parser; _build_parser(); "
            "print(sorted(m for m in ('torch', 'pandas', 'scipy', 'matplotlib', 'numpy') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
    for command in ("synth", "train", "evaluate", "report", "ablate", "demo"):
        shown = subprocess.run([sys.executable, "-m", "adnet_lab.cli", command, "--help"],
                               capture_output=True, text=True, check=True).stdout
        assert "(default: None)" not in shown and "(default: False)" not in shown, command
        assert shown.count("(default: data/WFLW") <= 1


# ---------------------------------------------------------------------------- load_model

def test_load_model_reads_shipped_training_and_release_checkpoints(trained, tmp_path):
    result, out = trained
    shipped = load_model("adnet")
    assert shipped.source.kind == "shipped" and shipped.source.weights == "net_ema"
    assert shipped.recipe["model"] == "adnet-mw0.1-fixed4" and not shipped.training

    ema = load_model(out / "last.pt")
    raw = load_model(out / "last.pt", weights="raw")
    assert ema.source.kind == "training" and ema.source.path == out / "last.pt"
    assert ema.source.recipe["seed"] == 3 and raw.source.weights == "net"
    for key, value in result.ema_model.state_dict().items():
        assert torch.equal(ema.state_dict()[key], value.cpu()), key
    for key, value in result.model.state_dict().items():
        assert torch.equal(raw.state_dict()[key], value.cpu()), key

    release = save_official_checkpoint(tmp_path / "release.pth", result.model,
                                       result.ema_model, epoch=1)
    official = load_model(release, input_size=64)       # scheme from the 98 heatmaps
    assert official.source.kind == "release" and official.config.scheme == "wflw"
    assert official.loaded_weights == "net_ema" and official.recipe is None
    for key, value in result.ema_model.state_dict().items():
        assert torch.equal(official.state_dict()[key], value.cpu()), key


def test_load_model_refuses_what_it_cannot_use(trained, tmp_path):
    _, out = trained
    with pytest.raises(ValueError, match="the model is for 'wflw', not '300w'"):
        load_model(out / "last.pt", scheme="300w")
    with pytest.raises(ValueError, match="weights must be 'ema' or 'raw'"):
        load_model(out / "last.pt", weights="best")
    with pytest.raises(ValueError, match="holds only its EMA weights"):
        load_model("baseline", weights="raw")
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_model(tmp_path / "nothing.pt")
    odd = tmp_path / "odd.pt"
    torch.save({"weights": {}}, odd)
    with pytest.raises(CheckpointError, match="no 'train_config' or 'net' entry"):
        load_model(odd)


# ---------------------------------------------------------------------------- train_step

def test_train_step_updates_only_the_model_and_reports_non_finite_losses(dataset):
    torch.manual_seed(0)
    model = ADNet(TINY).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    objective = ADNetObjective("wflw", TINY.num_stacks, map_weight=0.1)
    batch = {key: torch.stack([dataset[i][key] for i in range(4)])
             for key in ("image", "landmarks_px")}
    images = batch["image"].clone()
    before = copy.deepcopy(model.state_dict())
    result = train_step(model, batch, objective, optimizer)
    assert result.finite and result.loss == pytest.approx(sum(result.terms.values()), rel=1e-5)
    assert set(result.terms) == {"landmarks", "edge_maps", "point_maps"}
    assert torch.equal(batch["image"], images)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert "out_heatmaps.1.conv.weight" in changed

    poisoned = dict(batch, landmarks_px=torch.full_like(batch["landmarks_px"], float("nan")))
    after_first = copy.deepcopy(model.state_dict())
    skipped = train_step(model, poisoned, objective, optimizer)
    assert not skipped.finite
    for key, value in model.state_dict().items():
        assert torch.equal(value, after_first[key]), key


def test_one_epoch_of_train_is_its_train_steps(dataset):
    """train() composes train_step: the same steps by hand give the same weights."""
    config = TrainConfig(model=TINY, epochs=1, batch_size=8, seed=5, ema_decay=0.9)
    result = train(dataset, config, progress=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        model = ADNet(TINY)
    model = model.to(memory_format=torch.channels_last).train()
    optimizer = make_optimizer(model, config.lr)
    objective = ADNetObjective.from_config(config.objective, TINY)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(5 * 100_003))
    for start in range(0, len(dataset), 8):
        samples = [dataset[int(i)] for i in order[start:start + 8]]
        batch = {key: torch.stack([s[key] for s in samples]) for key in ("image",
                                                                         "landmarks_px")}
        train_step(model, batch, objective, optimizer)
    for key, value in result.model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


# ------------------------------------------------------------------- no hidden side effects

def test_predict_leaves_the_callers_model_as_it_was(dataset):
    model = ADNet(TINY).train()
    weight = model.out_heatmaps[0].conv.weight
    assert weight.is_contiguous()
    predictions = predict(model, dataset, progress=False)
    assert model.training and weight.is_contiguous()
    assert model.out_heatmaps[0].conv.weight is weight
    assert predictions.pred_px.shape == (len(dataset), 98, 2)


def test_evaluation_mode_restores_the_mode():
    model = ADNet(TINY).train()
    with evaluation_mode(model):
        assert not model.training
    assert model.training
    model.eval()
    with pytest.raises(RuntimeError), evaluation_mode(model):
        raise RuntimeError
    assert not model.training


# --------------------------------------------------------------------- single sources

def test_the_heatmap_grid_is_shared_by_decoding_coordconv_and_adl():
    maps = torch.zeros(1, 1, 16, 16)
    maps[0, 0, 3, 12] = 1.0
    grid = heatmap_grid(16, maps)
    assert torch.equal(soft_argmax(maps)[0, 0], torch.stack([grid[12], grid[3]]))
    channels = coordinate_channels(torch.zeros(1, 1, 16, 16))
    assert torch.equal(channels[0, 0, :, 0], grid) and torch.equal(channels[0, 1, 0], grid)


def test_normal_tangent_accumulator_matches_the_direct_decomposition():
    rng = np.random.default_rng(0)
    gt = mean_face("wflw")[None] * 256 + rng.normal(0, 2, size=(6, 98, 2))
    pred = gt + rng.normal(0, 3, size=gt.shape)
    stats = NormalTangentAccumulator("wflw")
    stats.update(pred[:4], gt[:4])
    stats.update(torch.from_numpy(pred[4:]), torch.from_numpy(gt[4:]))
    normal, tangent = decompose_errors(pred, gt, "wflw")
    distance = normalizing_distance(gt, "wflw")[:, None]
    on_curve = adnet_lab.get_scheme("wflw").on_curve_mask()
    components = stats.components()
    np.testing.assert_allclose(components[0], (normal / distance)[:, on_curve], rtol=1e-12)
    np.testing.assert_allclose(components[1], (tangent / distance)[:, on_curve], rtol=1e-12)
    result = stats.compute()
    assert result["count"] == 6
    assert result["normal_rms"] == pytest.approx(
        np.sqrt(np.mean(((normal / distance)[:, on_curve]) ** 2)))
    assert stats.components(all_landmarks=True)[0].shape == (6, 98)
    stats.reset()
    with pytest.raises(ValueError, match="no batches"):
        stats.compute()


def test_rms():
    assert rms(np.array([3.0, -4.0])) == pytest.approx(np.sqrt(12.5))
    np.testing.assert_allclose(rms(np.array([[3.0, 4.0], [0.0, 0.0]]), axis=1),
                               [np.sqrt(12.5), 0.0])
    assert isinstance(rms(torch.ones(3)), float)


def test_summarize_names_its_threshold_and_survives_a_csv_round_trip(trained, dataset,
                                                                      tmp_path):
    from adnet_lab import evaluate_predictions, paper_layout, summarize

    table = evaluate_predictions(predict(trained[0].ema_model, dataset, progress=False))
    assert list(summarize(table).columns) == ["count", "nme_percent", "fr10_percent",
                                              "auc10_percent"]
    at8 = summarize(table, threshold=0.08)
    assert list(at8.columns) == ["count", "nme_percent", "fr8_percent", "auc8_percent"]
    assert list(paper_layout(at8).index) == ["NME (%)", "FR@8 (%)", "AUC@8 (%)"]
    table.to_csv(tmp_path / "table.csv", index=False)
    reread = pd.read_csv(tmp_path / "table.csv")
    assert "scheme" not in reread.attrs
    pd.testing.assert_frame_equal(summarize(reread), summarize(table), check_exact=False)
    with pytest.raises(adnet_lab.core.errors.UsageError, match="does not say its scheme"):
        summarize(reread.drop(columns=[c for c in reread if c.startswith("error_")]))
