"""The brain / subdural / bone figure of one head-CT slice, plus the three views, a volume rendering and a MIP.

    python examples/figure_head_ct_windows.py [OUTDIR]   # default examples/out/

Headless: slice figures need no OpenGL; the volume rendering and MIP use
VTK offscreen (EGL or OSMesa).
"""

from __future__ import annotations

import sys
import warnings

import volumeview
import volumeview.render as render

from _data import head_ct_folder, out_dir


def main(argv: list[str]) -> None:
    out = out_dir(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the phantom folder holds a non-DICOM index file
        ct = volumeview.load(head_ct_folder())
    figures = {
        "head_ct_windows.png": dict(mode="grid", presets=["brain", "subdural", "bone"], size=(1200, 440)),
        "head_ct_slices.png": dict(mode="slices", preset="brain", size=(1200, 440)),
        "head_ct_volume_bone.png": dict(mode="volume", preset="CT-Bone", camera="anterior", size=(512, 512)),
        "head_ct_volume_left.png": dict(mode="volume", preset="CT-Bone", camera="left", size=(512, 512)),
        "head_ct_mip.png": dict(mode="mip", preset="bone", camera="anterior", size=(512, 512)),
    }
    for name, options in figures.items():
        render.render(ct, out / name, **options)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main(sys.argv)
