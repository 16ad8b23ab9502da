"""Write the four notebooks from their cell sources (run by ``make notebooks``, which then
executes them in place so they are committed with outputs)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent
CHECK = "# NBVAL_CHECK_OUTPUT\n"

SETUP = """\
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

torch.set_num_threads(2)
pd.set_option("display.precision", 2)
"""

TEST_SET = """\
from adnet_lab import FaceAlignmentDataset, SyntheticConfig, generate_faces

faces = generate_faces(200, SyntheticConfig(image_size=128, seed=1000), progress=False)
test_set = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
print(len(test_set), "synthetic test faces")
"""


def faces_of_both_models(face_expression: str, landmark_expression: str, why: str) -> list:
    """Cells that draw a test face through both shipped models, one figure each at the same
    zoom, with face and landmark sliders (starting at the face and landmark given)."""
    return [new_markdown_cell(why), new_code_cell(f"""\
from adnet_lab import FacePanel, show

face = {face_expression}
landmark = {landmark_expression}
in_image = {{variant_words(name): np.stack([test_set.to_image_pixels(i, points)  # image pixels
                                          for i, points in enumerate(predictions.pred_px)])
            for name, predictions in shipped_predictions.items()}}
faces_panel = FacePanel(faces.images, faces.true_landmarks, in_image, labels=faces.landmarks,
                        face=face, landmark=landmark)
show(faces_panel)""")]


#: Every term the notebooks use, defined once; each notebook opens with the ones it uses
#: (docs/teaching.md's glossary says the same).
GLOSSARY = {
    "landmark": "a named point of the face (98 on WFLW's faces: 33 on the jaw, 9 per brow, "
                "9 on the nose, 8 per eye, 20 on the lips, 2 pupils)",
    "normal": "the direction **across** a facial curve at a landmark: perpendicular to the "
              "chord through its two neighbours on the curve; at a curve's open ends (the "
              "jaw's and the brows' ends) the chord runs to the one neighbour; on the closed "
              "eyes and lips the corners take the chord through their two neighbours like "
              "any other point, so at a sharp corner the frame is a compromise (read the "
              "corners' numbers with care); the pupils lie on no curve and have none",
    "tangent": "the direction **along** the curve: the normal turned by 90 degrees. A "
               "landmark's error splits into a normal and a tangent part",
    "inter-ocular distance": "the distance between the outer eye corners: errors are given "
                             "in percent of it (WFLW's and 300W's normaliser)",
    "NME": "normalised mean error: an image's mean landmark error in percent of the "
           "inter-ocular distance",
    "RMS": "root mean square: the typical size of an error part over faces and landmarks",
    "lean": "the tangent RMS divided by the normal RMS over a curve's landmarks: 1 when the "
            "error is as large along the curve as across it",
    "labels and truth": "a synthetic face has its **labels** (annotations scattered like "
                        "annotators', what a benchmark holds) and its **truth** (where the "
                        "points really are, known only because the faces are made)",
    "heatmap": "a map per landmark (16 x 16 cells here) whose mass says where the landmark "
               "is",
    "soft-argmax": "reading a landmark off its map as the map's weighted mean position",
    "ADL": "anisotropic direction loss: a loss that weighs the normal part of the error "
           "lambda times more than the tangent part (lambda = 1: the baseline's smooth-L1)",
    "AAM": "anisotropic attention module: edge maps per curve and point maps per landmark, "
           "multiplied into the heatmaps (the product is the fused map)",
    "CED": "cumulative error distribution: the share of images with an NME below each value",
    "AUC@10": "the area under the CED up to an NME of 10%, divided by 10% (1: every image "
              "perfect)",
    "FR@10": "failure rate: the share of images whose NME exceeds 10%",
}

def glossary_cell(*terms: str):
    """A Markdown cell defining ``terms`` (keys of :data:`GLOSSARY`) before their first use."""
    lines = "\n".join(f"- **{term}**: {GLOSSARY[term]}." for term in terms)
    return new_markdown_cell(f"**Words used here.**\n\n{lines}")


CAUSE_WORDS = """\
**What this shows.** The error does not need labels that lean to lean. Trained on noise-free
labels, the baseline's error leans along the jaw as much as trained on the default ones (the
printout: 2.07 against 2.08), and the nose base leans a little under every kind of
labels. On these faces the lean is the **image's**: the jaw is a long smooth edge that fixes a
point across the curve but not along it. Labels that scatter equally make the jaw lean less
(1.53) only by adding error *across* the curve. Where the labels' own lean does show is
in what a benchmark measures against labels (the table against the labels, above). The
prediction written before the study expected most of the jaw's lean to come from the labels;
it was wrong (`docs/ablation.md`). ADNet (the outlines) narrows the error across the curve
under all three kinds of labels: its gain does not need labels that lean either."""

NOTEBOOK_01 = [
    new_markdown_cell("""\
# 1. The error-bias: normal versus tangent

Annotators agree on **where a facial curve is** but not on **where along it** a landmark
sits. This notebook shows what *normal* and *tangent* mean on a face, lets you play with the
annotation ambiguity, decomposes the errors of a trained model (the shipped baseline,
trained with an isotropic loss on synthetic faces) into the two directions, and ends with a
study of what makes that error lean along the curves: the labels, or the image."""),
    glossary_cell("landmark", "normal", "tangent", "inter-ocular distance", "labels and truth",
                  "NME", "RMS", "lean", "ADL", "AAM"),
    new_code_cell(SETUP + """\
from adnet_lab import AmbiguityPanel, LandmarkPanel, show
"""),
    new_markdown_cell("""\
## Normal and tangent on a face

Pick a scheme, a curve and a landmark. Blue is the curve normal at the landmark (the `chord`
rule: perpendicular to the line joining its two neighbours), orange the tangent (the normal
turned by +90 degrees). The COFW right eye is an *open* curve in the official release -- a
quirk this package keeps (and `cofw-symmetric` fixes)."""),
    new_code_cell("""\
landmark_panel = LandmarkPanel("wflw")
show(landmark_panel)"""),
    new_markdown_cell("""\
## Annotation ambiguity

Each red dot is one simulated annotation of a landmark of the mean face: moved along its
curve with `sigma tangent` and across it with `sigma normal` (percent of the inter-ocular
distance); the right panel zooms on the jaw, where the stretch along the curve shows. Move the
sliders: with equal sigmas the cloud is round and the ratio is about 1.

The printed numbers: `tangent_rms_percent` and `normal_rms_percent` are the measured spread
of the simulated annotations along and across the curves, `ratio` their quotient over every
curve, `requested_ratio` sigma tangent / sigma normal, and `jaw_ratio` the quotient on the
jaw alone. The ratio over all curves is well below the requested one because the eyes and
lips are tight: a move along the arc also leaves the straight tangent, and that part counts
as normal error. On the gentle jaw the measured ratio is close to the requested one."""),
    new_code_cell("""\
ambiguity_panel = AmbiguityPanel("wflw", sigma_tangent=3.0, sigma_normal=0.5)
show(ambiguity_panel)"""),
    new_code_cell(CHECK + """\
print({k: round(v, 2) for k, v in ambiguity_panel.state.items()})"""),
    new_markdown_cell("""\
## A trained model's errors, against the labels and against the truth

The shipped `baseline` was trained on faces annotated with sigma tangent 3% and sigma normal
0.5%. Here it predicts a fresh synthetic test set. Every test face carries two sets of
landmarks: its **labels**, annotated with the same ambiguity (what a benchmark compares
with), and its **truth**, where the points really are (known only because the faces are
synthetic). Against the labels, part of the measured error is the labels' own scatter;
against the truth, what is left is the model's."""),
    new_code_cell(TEST_SET + """\
from adnet_lab import (components_from_table, curve_error_table, error_ellipses,
                       evaluate_predictions, load_model, predict)

baseline = load_model("baseline")
predictions = predict(baseline, test_set, progress=False)           # against the labels
truth_set = FaceAlignmentDataset(faces.records(truth=True), "wflw", input_size=64)
vs_truth = predict(baseline, truth_set, progress=False)             # against the truth"""),
    new_markdown_cell("""\
One test face (face 0: the first face generated, not chosen for its error): green the
truth, red the labels, pink the baseline's predictions. The zoom
follows one landmark of the jaw: its error against the truth (dashed) is the sum of a part
across the curve (**normal**, blue) and a part along it (**tangent**, orange). Move the
`face` and `landmark` sliders to look at others (landmarks 0-32 are the jaw; 96 and 97, the
pupils, lie on no curve)."""),
    new_code_cell("""\
from adnet_lab import FacePanel

in_image = np.stack([test_set.to_image_pixels(face, points)       # crop -> image pixels
                     for face, points in enumerate(predictions.pred_px)])
face_panel = FacePanel(faces.images, faces.true_landmarks, {"The shipped baseline": in_image},
                       labels=faces.landmarks, face=0, landmark=8)
show(face_panel)"""),
    new_markdown_cell("""\
Over all test faces, per curve: the RMS of the normal and the tangent components (percent of
the inter-ocular distance) and their ratio, against the labels and against the truth. The
ratio against the labels is the larger: the labels' own tangent scatter is part of it."""),
    new_code_cell(CHECK + """\
columns = {"normal_rms": "normal RMS %", "tangent_rms": "tangent RMS %",
           "anisotropy": "tangent / normal"}
tables = {}
for reference, measured in (("against the labels", predictions), ("against the truth", vs_truth)):
    normal, tangent = components_from_table(evaluate_predictions(measured))
    tables[reference] = curve_error_table(normal, tangent, "wflw")[list(columns)].rename(
        columns=columns)
side_by_side = pd.concat(tables, axis=1).round(2)
side_by_side.index = [name.replace("_", " ") for name in side_by_side.index]
side_by_side"""),
    new_markdown_cell("""\
How much of the bias measured against the labels is the labels' own? Over all curves, the
ratio's excess over 1 (no bias) against the truth, as a share of the excess against the
labels:"""),
    new_code_cell(CHECK + """\
from adnet_lab import get_scheme, rms

on_curve = get_scheme("wflw").on_curve_mask()
ratio = {}
for reference, measured in (("labels", predictions), ("truth", vs_truth)):
    normal, tangent = components_from_table(evaluate_predictions(measured))
    ratio[reference] = rms(tangent[:, on_curve]) / rms(normal[:, on_curve])
share = 1 - (ratio["truth"] - 1) / (ratio["labels"] - 1)
print(f"tangent / normal over all curves: {ratio['labels']:.2f} against the labels, "
      f"{ratio['truth']:.2f} against the truth; {100 * share:.0f}% of the bias measured "
      "against the labels is the test labels' own ambiguity, the rest is the model's")"""),
    new_markdown_cell("""\
Each ellipse is a landmark's error covariance against the truth in its own frame, drawn on
the mean face (magnified). Against the truth the error leans on the **jaw**, whose ellipses
stretch along the curve, and less on the **nose base**; on the brows, the nose bridge, the
eyes and the lips it does not: their ellipses are nearly round (the table above: ratios near
1 against the truth). What looked like a strong bias against the labels is, away from the
jaw and the nose base, the labels' own scatter. Where does the jaw's lean come from? The
study at the end of this notebook answers it."""),
    new_code_cell("""\
from adnet_lab import plot_error_ellipses, plot_landmark_bars

normal, tangent = components_from_table(evaluate_predictions(vs_truth))   # against the truth
plot_error_ellipses(error_ellipses(normal, tangent, "wflw"), "wflw", magnify=2,
                    title="The shipped baseline's errors against the truth, per landmark");"""),
    new_markdown_cell("""\
The same per landmark as bars: the tangent and the normal RMS error against the truth, the
landmarks grouped by curve (the pupils lie on no curve, so they have no normal or tangent
part worth the name)."""),
    new_code_cell("""\
from adnet_lab import landmark_error_table

plot_landmark_bars(landmark_error_table(normal, tangent, "wflw"),
                   title="The shipped baseline: RMS error per landmark against the truth");"""),
    new_markdown_cell("""\
## What causes the lean: a study

Why does the error lean along the jaw? Two causes are possible. **The labels**: they scatter
along the curves six times more than across them, and a model trained on them learns the
position along a curve less precisely. **The image**: an edge fixes a point across the curve
but not along it, so even exact labels leave the position along a smooth curve less
determined by the pixels. The study `cause` (`adnet-lab ablate --study cause`; its prediction
was committed before its first run, `docs/ablation.md`) tells them apart: the baseline and
ADNet (the package's recipe) were trained at the demo's budget on the same faces with three
kinds of labels, on 3 seeds each:

- **anisotropic**: the default labels (3% along, 0.5% across the curves);
- **equal**: labels that scatter equally in both directions, with the same total variance
  (2.15% each way): no lean in the labels;
- **noise-free**: the true landmarks as labels: only the image can make the error lean.

The same mean face and error ellipses (1 SD against the truth, the three seeds' 1,500 test
faces pooled) under the three kinds of labels:"""),
    new_code_cell("""\
from pathlib import Path

from adnet_lab import plot_curve_lean, plot_ellipses_by_labels

study = Path("../docs/ablation")
lean = pd.read_csv(study / "cause_lean.csv")
plot_ellipses_by_labels(pd.read_csv(study / "cause_ellipses.csv"), lean);"""),
    new_markdown_cell("""\
Per curve, the lean of the error against the truth (tangent RMS / normal RMS over the
curve's landmarks; 1 is no lean), with its 95% interval clustered by seed (the seeds are
resampled, then the faces within each):"""),
    new_code_cell("""\
plot_curve_lean(lean);"""),
    new_code_cell(CHECK + """\
def lean_of(setting, variant="baseline", curve="jaw"):
    row = lean.set_index(["setting", "variant", "curve"]).loc[(setting, variant, curve)]
    return f"{row['ratio']:.2f} [{row['low']:.2f}, {row['high']:.2f}]"


for setting in ("anisotropic", "equal", "noise-free"):
    print(f"{setting:>11}: the baseline's lean on the jaw {lean_of(setting)}, on the nose "
          f"base {lean_of(setting, curve='nose_base')}, over all curves "
          f"{lean_of(setting, curve='all curves')}")
pooled = pd.read_csv(study / "cause_pooled.csv").set_index(["setting", "measure"])
print("\\nADNet against the baseline, change against the truth (mean over the 3 seeds):")
for setting in ("anisotropic", "equal", "noise-free"):
    print(f"{setting:>11}: " + ", ".join(
        f"{words} {pooled.loc[(setting, measure), 'change_percent']:+.1f}%"
        for measure, words in (("normal_rms_vs_truth", "normal RMS"),
                               ("tangent_rms_vs_truth", "tangent RMS"),
                               ("nme_vs_truth", "NME"))))"""),
    new_markdown_cell(CAUSE_WORDS),
    new_markdown_cell("""\
## Real data

If WFLW is in `data/WFLW` (see `data/README.md`), the same decomposition runs on its test
set with any checkpoint (`adnet-lab evaluate ... --out runs/eval`, then load
`runs/eval/predictions.npz` with `adnet_lab.Predictions.load`)."""),
    new_code_cell("""\
from pathlib import Path

wflw = Path("../data/WFLW")
print("WFLW found" if wflw.is_dir() else "no WFLW in data/: the synthetic faces stand in")"""),
]

NOTEBOOK_TRAIN = [
    new_markdown_cell("""\
# 3. Training with ADL and AAM: what helps, when, and by how much

ADNet adds two things to a heatmap network: the **anisotropic direction loss** (ADL), which
weighs the error across a facial curve (normal) more than along it (tangent), and the
**anisotropic attention module** (AAM), which multiplies the heatmaps by predicted edge and
point maps. This notebook opens with the committed ablation study (`docs/ablation.md`,
reproduced by `make study`): every variant trained on the same synthetic faces with the same
budget, three seeds, errors measured against the **true** landmarks. Then you can train a
variant yourself."""),
    glossary_cell("normal", "tangent", "inter-ocular distance", "labels and truth", "NME", "RMS",
                  "heatmap", "soft-argmax", "ADL", "AAM", "CED", "AUC@10", "FR@10"),
    new_code_cell(SETUP + """\
from pathlib import Path

from adnet_lab import (LAMBDA_SWEEP, STUDIES, plot_learning_curves, plot_tradeoff,
                       read_study_results)

study = Path("../docs/ablation")
main = read_study_results(study, "main")      # runs, summary, paired, histories, curves"""),
    new_markdown_cell(r"""\
## ADL: the loss, made visible

For a landmark with true position $g$ and prediction $p$, let $\Delta = p - g$, $n$ the
unit normal of its curve at $g$ and $t$ the tangent ($n$ turned by 90 degrees). ADL weighs the
two components of the error differently:

$$d^2 = \alpha\,(\Delta\cdot n)^2 + \beta\,(\Delta\cdot t)^2, \qquad
\alpha = \frac{2\lambda}{\lambda + 1}, \quad \beta = \frac{2}{\lambda + 1},$$

$$\mathrm{ADL} = \begin{cases} d^2 / (2s) & d < s \\ d - s/2 & d \ge s \end{cases}
\qquad (s = 0.01 \text{ of the half crop}).$$

The knee $s$ is measured in normalised crop coordinates ([-1, 1] across the crop); on the
mean face the panel below draws it lies at 0.99% of the inter-ocular distance
(the line above the panel's figure, and `knee_percent` in the check under the panel), so an
error of 1% is just past it.

**lambda** is the ratio $\alpha / \beta$: with $\lambda = 1$ ADL is the isotropic smooth-L1
loss of the baseline; with $\lambda = 9$ an error across the curve costs 9 times what the
same error along it costs (inside the knee; $\sqrt{9} = 3$ times outside it). Points on no
curve (the pupils) keep the isotropic loss. The release computes lambda per landmark from the
spread of its heatmap (`heatmap` mode); the package's recipe fixes it at 4.

Move the slider: the level lines stretch along the tangent axis, and the arrows (minus the
gradient: where training pushes the prediction) turn towards the curve. The line above the
figure says, for the lambda chosen, how many times more an error of 1% of the inter-ocular
distance costs across the curve than along it."""),
    new_code_cell("""\
from adnet_lab import LossPanel, show

loss_panel = LossPanel(loss_lambda=4.0)
show(loss_panel)"""),
    new_code_cell(CHECK + """\
print("the panel as it opens:",
      {key: round(value, 2) for key, value in loss_panel.state.items()})"""),
    new_markdown_cell("""\
### The release's lambda, on a real prediction

The release does not fix lambda: for every landmark it measures the spread of the
network's own fused map about the decoded point, along the curve and across it, and takes
the ratio of the two variances (clamped to 1-9). Here is that computation on the shipped
ADNet's map of a jaw landmark of a synthetic test face:"""),
    new_code_cell(TEST_SET + """\
from adnet_lab import load_model, plot_heatmap_lambda

adnet = load_model("adnet-mw0.1-fixed4")
one = test_set[0]
with torch.no_grad():
    output = adnet(one["image"][None])
plot_heatmap_lambda(test_set.crop(0), output, one["landmarks"][None], 8, "wflw");"""),
    new_markdown_cell("""\
**Why it stays low here.** A single landmark can reach a high value (this one does, where
its map stretches along the jaw), but the typical map is one or two cells wide each way, and
one cell of a 16 x 16 map is a large step on the face. Over every test landmark on a curve:"""),
    new_code_cell(CHECK + """\
from adnet_lab import map_spreads, normalizing_distance

spread = map_spreads(adnet, test_set)                   # percent of the inter-ocular distance
ratio = np.nanmedian(spread["tangent_sd"] ** 2 / spread["normal_sd"] ** 2)
faces_iod = normalizing_distance(np.stack([face["landmarks"].numpy() for face in test_set]),
                                 "wflw")                 # in the map's [-1, 1] coordinates
cell = 100 * (2 / 15) / np.median(faces_iod)             # one map cell, percent of it
print(f"median variance along / across (the heatmap lambda before clamping): {ratio:.2f}")
print(f"median SD across {np.nanmedian(spread['normal_sd']):.1f}%, along "
      f"{np.nanmedian(spread['tangent_sd']):.1f}% of the inter-ocular distance; one map cell "
      f"is {cell:.1f}%")"""),
    new_markdown_cell("""\
The labels' ambiguity along the curves (3% of the inter-ocular distance) is a fraction of
one map cell: the map cannot show it, so its shape, and the lambda read from it, say more
about the grid than about the annotators. The paper's 64 x 64 maps at 256 px resolve four
times finer; here a fixed lambda of 4 does what the heatmap lambda cannot (the study below).

## The committed study

Two recipes of ADNet appear, each under its own name everywhere (study, demo, shipped
weights): **`adnet-release`**, the release's recipe (map losses weighted 10, lambda computed
from the heatmaps), and **`adnet-mw0.1-fixed4`**, the package's recipe (map losses weighted
0.1, ADL with a fixed lambda of 4), the one the demo trains and the shipped weights hold.
Every number below is measured **against the true landmarks** of the test faces (known
because the faces are synthetic), so the labels' own ambiguity is not in it.

Each variant's change against the baseline trained on the same seed, at 8 epochs (study
`main`, three seeds; mean and 95% interval over the seeds; negative: smaller error):"""),
    new_code_cell(CHECK + """\
from adnet_lab import study_changes

study_changes(main["summary"], STUDIES["main"].variants)"""),
    new_markdown_cell("""\
**Learning curves** of the baseline and the two recipes (validation faces against their
true landmarks; the band spans the three seeds). The release's recipe starts far behind and
stays behind within this budget; the package's recipe ends below the baseline across the
curves (normal) and slightly above it along them (tangent)."""),
    new_code_cell("""\
recipes = ["baseline", "adnet-mw0.1-fixed4", "adnet-release"]
histories = main["histories"]
plot_learning_curves(histories[histories["variant"].isin(recipes)],
                     title="Study 'main' (8 epochs): validation error against the truth");"""),
    new_markdown_cell("""\
**The trade-off, seed by seed.** Absolute errors vary from seed to seed more than the
variants differ, so their intervals overlap; the change against the baseline *on the same
seed* removes that variation. ADL's lambda trades tangent accuracy for normal accuracy: the
baseline is lambda = 1, the release's heatmap lambda adapts per landmark (but its median
stays below 2 on 16 x 16 maps), fixed lambdas 4 and 9 bind the normal harder; the light attention
(`aam-mw0.1`) adds to it (bars: 95% intervals over the seeds)."""),
    new_code_cell("""\
shown = [*LAMBDA_SWEEP, "aam-mw0.1", "adnet-mw0.1-fixed4", "adnet-mw0.1-fixed9"]
plot_tradeoff(main["summary"], shown, x="tangent_rms_vs_truth_percent_change",
              y="normal_rms_vs_truth_percent_change",
              title="Change against the baseline on the same seed (study 'main', 8 epochs)");"""),
    new_markdown_cell("""\
## Twice the training: the budget the demo uses

At 8 epochs the package's recipe lowers the normal error on every seed, but its NME moves
on both sides of zero. At 16 epochs (study `budget-recipe`, three seeds) every seed gains in
the normal error and in the NME (the tangent error still rises); this is the budget
`make demo` trains, chosen before a confirmation on unseen seeds
and ambiguities (`docs/ablation.md`)."""),
    new_code_cell(CHECK + """\
budget = read_study_results(study, "budget-recipe")
study_changes(budget["summary"], STUDIES["budget-recipe"].variants)"""),
    new_code_cell("""\
plot_learning_curves(budget["histories"],
                     ("val_nme_percent", "val_normal_rms_percent", "val_tangent_rms_percent"),
                     title="Study 'budget-recipe' (16 epochs): validation error against the "
                           "truth");"""),
    new_markdown_cell("""\
**Where the normal error drops**: per curve, the change of the normal RMS error against the
truth (percent against the baseline, mean over the seeds):"""),
    new_code_cell(CHECK + """\
from adnet_lab import curve_words, variant_words

per_curve = budget["curves"].rename(index=curve_words, columns=variant_words)
per_curve.index.name = "curve"
per_curve.round(1)"""),
    new_markdown_cell("""\
## Why the release's recipe fails here

The diagnostics of the 8-epoch study (`adnet_lab.diagnostics.diagnose`, on the test faces,
mean over seeds). The point maps stay flat under every attention variant (a peak far below
their target's 0.81, weight 0.1 included). What sets weight 10 apart is the fused maps: the
product of the flat point maps with the strongly learned edge maps squeezes them onto a few
cells, about half as many as at weight 0.1, and the soft-argmax then reads a coarse, biased
position. Weighted 0.1, the attention still shapes the maps without taking them over. The
heatmap lambda the release would use has a median of 1.54 with ADL alone and 1.63 with the
release's recipe (column `heatmap lambda, median`; the shipped ADNet's maps gave 1.89 before
clamping, above), so the release's ADL barely binds the normal; a fixed lambda of 4 does."""),
    new_code_cell(CHECK + """\
from adnet_lab import diagnostics_in_words

diagnostics = diagnostics_in_words(main["runs"], ["baseline", "aam-mw0.1", "adnet-release",
                                                  "adl", "adnet-mw0.1-fixed4"])
# the text's claims, checked: flat point maps under every attention variant, fused maps
# squeezed to under half the cells under weight 10 only,
# the heatmap lambda's median between 1.4 and 1.7
peak, cells = diagnostics["point maps: peak (target 0.81)"], \
    diagnostics["fused maps: effective cells (of 256)"]
assert peak[["aam-mw0.1", "adnet-release", "adnet-mw0.1-fixed4"]].max() < 0.25
assert cells["adnet-release"] < cells["adnet-mw0.1-fixed4"] / 2
assert 1.4 < diagnostics.loc["adl", "heatmap lambda, median"] < 1.7
diagnostics.round(2)"""),
    new_markdown_cell("""\
## The two recipes' outcome on a face

The shipped models are the demo's pair (16 epochs): the baseline and the package's recipe.
Here is one synthetic test face through both, zoomed on a jaw landmark, with the error
against the truth split into its normal and tangent parts."""),
    new_code_cell("""\
from adnet_lab import predict, variant_words

shipped_predictions = {name: predict(load_model(name), test_set, progress=False)
                       for name in ("baseline", "adnet-mw0.1-fixed4")}"""),
    *faces_of_both_models("3", "8", """\
Face 3, landmark 8 (the chin's side; the face was picked by hand when this notebook was
written, to show a jaw landmark clearly, not by a rule on its error). Move the sliders to
look at others: landmarks 0-32
are the jaw, 33-50 the brows, 51-59 the nose, 60-75 the eyes, 76-95 the lips."""),
    new_markdown_cell("""\
## Train both yourself: the baseline and a variant, side by side

Pick the variant's switches (the package's recipe is preset) and press **Train both**: the
baseline and the variant train at the same time on the same faces and seed, in two
processes sharing the cores, and their validation curves (against the true landmarks) are
drawn over each other after every epoch, with the time elapsed and an estimate of the rest.
**Stop** ends both; **Train both** resumes them. Each setting is one pair of run folders
under `runs/panel/`: a setting trained before is shown at once.

**What to expect of the default** (10 epochs of 1,200 faces for each model, five eighths of
the demo's budget: the smallest at which both the normal error and the NME fell on at least 4
of 5 other seeds, study `panel-budget` in docs/ablation.md): this is what it gave when it was
run on a 2-core CPU (`python -m adnet_lab.side_by_side` trains it again and rewrites the
figure):"""),
    new_code_cell(CHECK + """\
import json

from IPython.display import Image, display

panel_run = json.loads(Path("../docs/figures/panel_run.json").read_text())
change = panel_run["change_percent"]
print(f"{panel_run['seconds'] / 60:.1f} minutes on {panel_run['cores']} CPU cores; on "
      f"{panel_run['test_faces']} test faces against the truth, the package's recipe "
      f"against the baseline: normal {change['normal_rms_vs_truth_percent']:+.1f}%, tangent "
      f"{change['tangent_rms_vs_truth_percent']:+.1f}%, NME "
      f"{change['nme_vs_truth_percent']:+.1f}%")"""),
    new_code_cell("""\
display(Image("../docs/figures/panel_run.png"))"""),
    new_markdown_cell("""\
One seed and 200 test faces: a single draw, smaller than the 16-epoch study's (normal
-15%, three seeds) and noisier. The panel shows the direction of the effect within minutes;
the study and the confirmation (`docs/ablation.md`) say how large it is. On a GPU the
`paper` preset is offered too. Without a widget frontend the panel shows its empty
figure."""),
    new_code_cell("""\
from adnet_lab import TrainingPanel, show

panel = TrainingPanel()
show(panel)"""),
    new_markdown_cell("""\
The same from the command line, resumable and with checkpoints every epoch:

```bash
adnet-lab ablate --variants baseline adl-fixed9 adnet-mw0.1-fixed9 --seeds 3 --out runs/mine
adnet-lab train --data data/WFLW --preset paper --epochs 500 --milestones 200 350 450
```"""),
]

NOTEBOOK_CED = [
    new_markdown_cell("""\
# 4. CED curves and checks against the paper

**What can and cannot be compared.** The shipped models were trained for 16 epochs on
synthetic faces (64 px crops, 16 x 16 maps), and their errors here are measured on synthetic
test faces. Their NME is **not comparable** with the paper's WFLW 4.14: other faces, other
images, other annotations, a quarter of the resolution and a thirtieth of the training. What
carries over is *relative*: ADNet against the baseline on the same faces, the normal against
the tangent error. The paper's own numbers are checked another way: the package evaluates
the **released checkpoint** on the real WFLW test set with the same code (last section)."""),
    glossary_cell("normal", "tangent", "inter-ocular distance", "labels and truth", "NME", "RMS",
                  "CED", "AUC@10", "FR@10", "ADL", "AAM"),
    new_code_cell(SETUP + TEST_SET + """\
from adnet_lab import (evaluate_predictions, get_scheme, load_model, paper_layout, predict,
                       summarize, variant_words)

shipped_predictions = {name: predict(load_model(name), test_set, progress=False)
                       for name in ("baseline", "adnet-mw0.1-fixed4")}
tables = {name: evaluate_predictions(p) for name, p in shipped_predictions.items()}"""),
    new_markdown_cell("""\
The shipped models on the synthetic test faces, against the labels, in the paper's layout
(NME, FR@10 and AUC@10 in percent, inter-ocular):"""),
    new_code_cell(CHECK + """\
shipped = pd.concat({variant_words(name): paper_layout(summarize(table))[["test"]]
                     for name, table in tables.items()}, axis=1).round(2)
shipped.index.name = "measure"
shipped"""),
    new_markdown_cell("""\
A **CED** (cumulative error distribution) gives, for every NME on its x axis, the share of
test faces whose NME is smaller: the higher and further left the curve, the better.
**AUC@10** is the area under it up to an NME of 10% (as a percentage of the largest possible
area; higher is better), **FR@10** the share of faces whose NME exceeds 10% (the failure
rate). Pick the models to show; no published point belongs on this figure, the faces being
synthetic:"""),
    new_code_cell("""\
from adnet_lab import ComparisonPanel, show

panel = ComparisonPanel({name: table["nme_inter_ocular"].to_numpy()
                         for name, table in tables.items()},
                        title="The shipped models on the synthetic test faces, against the "
                              "labels", distance="inter-ocular distance")
show(panel)"""),
    *faces_of_both_models(
        'int(tables["baseline"]["nme_inter_ocular"].to_numpy().argmax())',
        "int(np.nanargmax(np.where(get_scheme('wflw').on_curve_mask(), "
        "np.hypot(*(shipped_predictions['baseline'].pred_px[face] "
        "- shipped_predictions['baseline'].gt_px[face]).T), np.nan)))",
        """\
**The CED's tail, on a face**: the baseline's worst test face (the right end of its
curve), through both models, zoomed on the baseline's largest error on a curve."""),
    new_markdown_cell("""\
## The paper's tables

The published numbers ship with the package (`adnet_lab.reference`). WFLW, inter-ocular,
per subset, NME, FR@10 and AUC@10 (percent):"""),
    new_code_cell(CHECK + """\
from adnet_lab import paper_table, reported

methods = ["ADNet", "STAR", "AWing", "LAB"]
pd.concat({metric.removesuffix("_percent").replace("10", "@10"):
           paper_table("WFLW", metric).reindex(methods)[["test"]]
           for metric in ("NME_percent", "FR10_percent", "AUC10_percent")}, axis=1)"""),
    new_code_cell(CHECK + """\
paper_table("300W").loc[["ADNet", "STAR"]]"""),
    new_code_cell(CHECK + """\
print("ADNet WFLW test NME:", reported("ADNet", "WFLW", "test"), "%",
      "| 300W full:", reported("ADNet", "300W", "full"), "%",
      "| COFW test (inter-pupil):", reported("ADNet", "COFW", "test"), "%")"""),
    new_markdown_cell("""\
## Any method's predictions, through the same lens (reviewers)

Give the test set's annotations and the prediction files of the methods you compare (the
line format of the public code bases, `.npy` / `.npz`, CSV long or wide, a folder of `.pts`;
image pixels; `name=path` names a method) and press **Analyze**: their CEDs, their NME and
the normal / tangent decomposition. A file that does not fit the annotations is reported
with its line and problem. It starts on the shipped example (`data/examples/`: 32 synthetic
faces, the shipped models' predictions in every format); `adnet-lab analyze` writes the full
tables, the paired tests and a report."""),
    new_code_cell("""\
from adnet_lab import AnalyzePanel

analyze_panel = AnalyzePanel()
show(analyze_panel)"""),
    new_markdown_cell("""\
## Re-checking the released checkpoint (reviewers)

1. Put WFLW in `data/WFLW` (layout in `data/README.md`) and the release's WFLW checkpoint at
   `checkpoints/ADNet_WFLW.pkl` (nothing is downloaded).
2. Run the next cell, or `adnet-lab evaluate checkpoints/ADNet_WFLW.pkl --dataset wflw
   --data data/WFLW --out runs/official_wflw`. The checkpoint is read with
   `weights_only=True` (EMA weights by default) and the crops use the release's input
   convention (BGR, (x - 127.5) / 127.5, 256 px).
3. The cell puts the paper's test-set numbers beside the ones computed here and draws the
   CED with the point the paper's failure rate fixes (the share of images below an NME of
   10%). Without the files it shows the paper's column alone and says what is missing."""),
    new_code_cell("""\
from pathlib import Path

from adnet_lab import ced_points, plot_ced

checkpoint, data = Path("../checkpoints/ADNet_WFLW.pkl"), Path("../data/WFLW")
paper = pd.Series([reported("ADNet", "WFLW", "test", f"{metric}_percent")
                   for metric in ("NME", "FR10", "AUC10")],
                  index=["NME (%)", "FR@10 (%)", "AUC@10 (%)"], name="paper")
missing = [str(path) for path in (checkpoint, data) if not path.exists()]
if not missing:
    from adnet_lab import open_split

    model = load_model(checkpoint, scheme="wflw")
    official = FaceAlignmentDataset(open_split("wflw", data, "test"), "wflw", 256)
    release = evaluate_predictions(predict(model, official))
    here = paper_layout(summarize(release))["test"]
    print(pd.DataFrame({"paper": paper, "computed here": here}).round(2))
    plot_ced({"ADNet release checkpoint": release["nme_inter_ocular"].to_numpy()},
             reported=ced_points("ADNet", "WFLW"),
             title="The released checkpoint on the WFLW test set",
             distance="inter-ocular distance");
else:
    print(pd.DataFrame({"paper": paper, "computed here": "needs " + " and ".join(missing)}))"""),
]


AAM_WORDS = """\
**What holds and what does not.** *Holds:* the mask makes the map the landmark is read
from much tighter **across** the curve. ADNet's fused map is about half as wide across as its
own heatmap on every curve and every face, and AAM alone is a third to a half narrower across
than the baseline, on every curve. *Holds against the model's own heatmap, only partly
against the baseline:* the fused map is **more elongated along** the curve. Against its own
heatmap the mask stretches every curve's maps, the jaw's clearly (the first table's last
columns), the others' a little; against the baseline, AAM alone is more elongated on the jaw,
the left brow and the lips, but *less* on the right brow, the nose and the eyes. *Does not
hold:* a mask that leaves the map loose along the curve. The fused maps are narrower along
the curve too: the mask tightens in every direction, more across than along. On the three
study seeds (figure above) the narrowing holds on every curve and seed; against the baseline
the stretch holds on every seed only on the jaw, the left brow and the inner lip, and turns
round on every seed on the nose bridge and the left eye (`docs/ablation.md`, study
`aam-alone`)."""

NOTEBOOK_INSIDE = [
    new_markdown_cell("""\
# 2. Inside ADNet: the attention, map by map

ADNet's anisotropic attention module (AAM) predicts, at every
stack of its hourglass, an **edge map** per facial curve (where the curve runs) and a
**point map** per landmark (where on the image the landmark might be). Their product (the
edge map spread to the curve's landmarks, times the point map) is the **attention mask**; the
heatmap times the mask is the **fused map**, and the soft-argmax reads the landmark off the
fused map. The paper's claim: the mask responds more *along* the curve than *across* it, so
the fused map is tight across the curve, where annotators agree, and looser along it.

Here are the shipped models of the demo (16 epochs on synthetic faces, 64 px input, 16 x 16
maps, two stacks): ADNet, and the baseline, which has no AAM and decodes its heatmap; and,
trained on exactly the baseline's faces, seed and budget, **AAM alone** (`aam-mw0.1`: AAM
without ADL), which differs from the baseline only by AAM."""),
    glossary_cell("landmark", "normal", "tangent", "inter-ocular distance", "labels and truth",
                  "heatmap", "soft-argmax", "ADL", "AAM"),
    new_code_cell(SETUP + TEST_SET + """\
from adnet_lab import MapsPanel, load_model, show

adnet, baseline = load_model("adnet-mw0.1-fixed4"), load_model("baseline")"""),
    new_markdown_cell("""\
It opens on face 0 (the first face generated, not chosen for its error) and landmark 8.
Pick a face and a landmark (0-32: the jaw; 33-50: the brows; 51-59: the nose; 60-75: the
eyes; 76-95: the lips; 96-97: the pupils, on no curve). Each row is a stack; the cyan cross
is the landmark each stack decodes."""),
    new_code_cell("""\
maps_panel = MapsPanel(test_set, adnet, baseline, face=0, landmark=8)
show(maps_panel)"""),
    new_code_cell("""\
from adnet_lab import predict, variant_words

shipped_predictions = {"baseline": predict(baseline, test_set, progress=False),
                       "adnet-mw0.1-fixed4": predict(adnet, test_set, progress=False)}"""),
    *faces_of_both_models("0", "8", """\
What those maps decode to: the same face and landmark through both models, with the truth,
the labels and the predictions, and the error against the truth split into its normal and
tangent parts."""),
    new_markdown_cell("""\
## AAM's claim, measured against the right reference

The claim is about the *mask*: multiplying the heatmap by it should leave a map tight
**across** the curve and looser **along** it. Two comparisons test it without mixing up two
different models:

1. **ADNet's fused map against its own heatmap before the mask**: the same model on the same
   face, so the only difference is the mask.
2. **AAM alone against the baseline**: `aam-mw0.1` (AAM with map weight 0.1, no ADL) was
   trained on exactly the shipped baseline's faces, seed and budget, so the two models differ
   only by AAM. Its fused map is compared with the baseline's heatmap (what each decodes).

For every test face and landmark on a curve, each map's standard deviation is measured
**about the true landmark** (not about the model's own decoded point) **across and along
the true curve** (the chord through the landmark's two neighbours; at a curve's open ends,
the jaw's and brows' ends, the chord to the one neighbour), in percent of the inter-ocular
distance (`adnet_lab.true_frame_spreads`). Per curve the maps are compared face by face; a
face whose two values differ by less than 0.1% of the inter-ocular distance is a **tie**,
counted apart, never as a win. The interval is a 95% bootstrap interval over the 200
faces."""),
    new_code_cell("""\
from adnet_lab import spread_comparison, spread_comparison_in_words, true_frame_spreads

aam_alone = load_model("aam-mw0.1")
truth_set = FaceAlignmentDataset(faces.records(truth=True), "wflw", input_size=64)
maps = {name: true_frame_spreads(model, truth_set)
        for name, model in (("ADNet", adnet), ("AAM alone", aam_alone), ("baseline", baseline))}
own = spread_comparison(maps["ADNet"]["fused"], maps["ADNet"]["heatmap"], "wflw")
spread_comparison_in_words(own, "fused map", "own heatmap")"""),
    new_code_cell("""\
alone = spread_comparison(maps["AAM alone"]["fused"], maps["baseline"]["heatmap"], "wflw")
spread_comparison_in_words(alone, "AAM alone", "baseline")"""),
    new_code_cell(CHECK + """\
def counts(table):
    narrower = int((table["across_change_high"] < 0).sum())
    elongated = int((table["elongation_change_low"] > 0).sum())
    less = int((table["elongation_change_high"] < 0).sum())
    return narrower, elongated, less


for words, table in (("ADNet's fused map against its own heatmap", own),
                     ("AAM alone against the baseline", alone)):
    narrower, elongated, less = counts(table)
    print(f"{words}: narrower across the curve on {narrower} of {len(table)} curves "
          f"({-table['across_change_percent'].max():.0f}% to "
          f"{-table['across_change_percent'].min():.0f}%); more elongated along it on "
          f"{elongated}, less on {less}; faces tied across: "
          f"{int(table['across_ties'].sum())} of {int(table[['narrower', 'across_ties', 'wider']].sum().sum())}")"""),
    new_markdown_cell("""\
The same comparisons on the three study seeds (study `aam-alone`, and ADNet from study
`cause`: 16 epochs, 500 unseen test faces per seed; `docs/ablation.md`): per curve the
change of the SD across the curve (bars: mean over seeds, whiskers: the seeds' range) and
the elongation of the two maps."""),
    new_code_cell("""\
from pathlib import Path

from adnet_lab import plot_spread_comparisons

seeds = pd.read_csv(Path("../docs/ablation/aam_spreads_summary.csv"))
plot_spread_comparisons(seeds);"""),
    new_code_cell(CHECK + """\
for comparison, rows in seeds.groupby("comparison", sort=False):
    print(f"{comparison}: narrower across on {int((rows['seeds_narrower'] == rows['seeds']).sum())} "
          f"of {len(rows)} curves on every seed, more elongated on every seed on "
          f"{int((rows['seeds_more_elongated'] == rows['seeds']).sum())}")"""),
    new_markdown_cell(AAM_WORDS),
]


def write(name: str, cells: list) -> Path:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = HERE / name
    nbformat.write(notebook, path)
    return path


def write_readme_figures() -> list[Path]:
    """The figures of the README and docs/notebooks.md, from the shipped models on the
    notebooks' synthetic test set: the idea on a face (``idea.png``), the baseline's error
    ellipses against the truth and the CED of both models."""
    import matplotlib

    matplotlib.use("Agg")
    from adnet_lab import (FaceAlignmentDataset, SyntheticConfig, components_from_table,
                           error_ellipses, evaluate_predictions, generate_faces, load_model,
                           normalizing_distance, plot_ced, plot_error_ellipses,
                           plot_face_errors, plot_idea, predict)

    import pandas as pd

    study = HERE.parent / "docs" / "ablation"

    faces = generate_faces(200, SyntheticConfig(image_size=128, seed=1000), progress=False)
    test_set = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
    truth_set = FaceAlignmentDataset(faces.records(truth=True), "wflw", input_size=64)
    models = {name: load_model(name) for name in ("baseline", "adnet-mw0.1-fixed4")}
    tables = {name: evaluate_predictions(predict(model, test_set, progress=False))
              for name, model in models.items()}
    vs_truth = evaluate_predictions(predict(models["baseline"], truth_set, progress=False))
    face, landmark = 0, 8
    prediction = test_set.to_image_pixels(
        face, predict(models["baseline"], test_set, progress=False).pred_px[face])
    figures = HERE.parent / "docs" / "figures"
    written = []
    for figure, name in (
            (plot_idea(faces.images[face], faces.true_landmarks[face],
                       pd.read_csv(study / "cause_ellipses.csv"),
                       lean=pd.read_csv(study / "cause_lean.csv")), "idea"),
            (plot_face_errors(faces.images[face], faces.true_landmarks[face], prediction,
                              "wflw", landmark, label=faces.landmarks[face],
                              unit=float(normalizing_distance(faces.true_landmarks[face],
                                                              "wflw")),
                              title="A synthetic test face: where the labels and a trained "
                                    "model's errors lean"), "face_errors"),
            (plot_error_ellipses(error_ellipses(*components_from_table(vs_truth), "wflw"),
                                 "wflw", magnify=2,
                                 title="The shipped baseline's errors against the truth"),
             "error_ellipses"),
            (plot_ced({name: table["nme_inter_ocular"].to_numpy()
                       for name, table in tables.items()},
                      title="CED of the shipped models (200 synthetic test faces, seed "
                            "1000, against the labels)", distance="inter-ocular distance",
                      note="synthetic faces at 64 px: not comparable\nwith the paper's WFLW "
                           "points (notebook 4)"), "ced")):
        figure.savefig(figures / f"{name}.png", dpi=100)
        written.append(figures / f"{name}.png")
    return written


if __name__ == "__main__":
    import sys

    # python build_notebooks.py [NAME.ipynb ...]: only those (no README figures);
    # --figures: only the README figures; nothing: all
    chosen = sys.argv[1:]
    if chosen == ["--figures"]:
        for path in write_readme_figures():
            print(path)
        sys.exit()
    for name, cells in (("01_error_bias.ipynb", NOTEBOOK_01),
                        ("02_inside_adnet.ipynb", NOTEBOOK_INSIDE),
                        ("03_train_adl_aam.ipynb", NOTEBOOK_TRAIN),
                        ("04_ced_and_paper_checks.ipynb", NOTEBOOK_CED)):
        if not chosen or name in chosen:
            print(write(name, cells))
    if not chosen:
        for path in write_readme_figures():
            print(path)
