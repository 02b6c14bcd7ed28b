"""The classic teaching figure: raw stored values, rescaled to HU, and windowed, each with its histogram.

    python examples/figure_windowing.py [OUTDIR]     # writes OUTDIR/windowing.png (default examples/out/)

Runs headless (matplotlib's Agg back-end). Uses the CT head phantom beside
the repo when present, else a generated head CT.
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pydicom  # noqa: E402

from _data import head_ct_folder, out_dir  # noqa: E402


def middle_slice(folder):
    """The DICOM dataset of the middle slice along the patient's z axis."""
    datasets = []
    for path in sorted(folder.iterdir()):
        try:
            ds = pydicom.dcmread(path)
        except Exception:  # not DICOM (e.g. a DIRFILE index): skip it
            continue
        if "PixelData" in ds and "ImagePositionPatient" in ds:
            datasets.append(ds)
    datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    return datasets[len(datasets) // 2]


def main(argv: list[str]) -> None:
    out = out_dir(argv)
    ds = middle_slice(head_ct_folder())
    raw = ds.pixel_array.astype(np.int32)  # stored values, as in the file
    slope, intercept = float(getattr(ds, "RescaleSlope", 1)), float(getattr(ds, "RescaleIntercept", 0))
    hu = raw * slope + intercept  # Hounsfield units
    level, width = 40.0, 80.0  # brain window
    windowed = np.clip((hu - (level - width / 2)) / width, 0, 1) * 255

    fig, axes = plt.subplots(2, 3, figsize=(13, 8), gridspec_kw={"height_ratios": [3, 1.3]})
    panels = [
        (raw, f"Raw stored values\n(BitsStored {ds.BitsStored}, {raw.min()}..{raw.max()})", "stored value"),
        (hu, f"Rescaled: HU = {slope:g} x stored {intercept:+g}\n(shown min..max)", "HU"),
        (windowed, f"Windowed: brain L {level:g} W {width:g}\n(HU {level - width / 2:g}..{level + width / 2:g} to black..white)", "display grey"),
    ]
    for col, (image, title, unit) in enumerate(panels):
        ax = axes[0, col]
        ax.imshow(image, cmap="gray", interpolation="nearest")  # rows top to bottom: anterior at the top
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
        hist = axes[1, col]
        hist.hist(image.ravel(), bins=256, color="0.3", log=True)
        hist.set_xlabel(unit)
        hist.set_ylabel("pixels (log)")
        if col == 1:
            for edge in (level - width / 2, level + width / 2):
                hist.axvline(edge, color="tab:orange", lw=1)
    fig.suptitle(f"{ds.get('SeriesDescription', 'CT')}: one axial slice, from file values to a picture", fontsize=12)
    fig.tight_layout()
    target = out / "windowing.png"
    fig.savefig(target, dpi=90)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv)
