"""Render speed after load: three views, 512x512 volume rendering and MIP, on this machine.

Data: the CT head phantom beside the repo (140 x 512 x 512 int16) and a
generated 512^3 int16 head-like volume (numpy). Each case is timed from the
loaded ``Volume`` to the finished RGB array (slices: to the written PNG),
so it includes building the VTK scene, and for the CPU mapper its one-time
gradient computation; "next" is a further image from the same scene (a new
camera), which is what a turntable frame costs. The fastest of the repeats
is reported (the least disturbed by other work on a shared machine).

    python benchmarks/bench_render.py            # both data sets, markdown table on stdout
    python benchmarks/bench_render.py --quick    # CT phantom only
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHANTOM = ROOT.parent / "shared" / "data" / "ct-head-phantom" / "dicom"


def generated_512(n: int = 512):
    """A 512^3 int16 CT-like head: air, a soft-tissue ellipsoid, a 6 mm skull shell, a little noise."""
    from volumeview import Volume

    spacing = 0.5
    ax = (np.arange(n, dtype=np.float32) - (n - 1) / 2) * spacing
    out = np.empty((n, n, n), np.int16)
    rng = np.random.default_rng(0)
    y2 = (ax[None, :, None] / 95.0) ** 2
    x2 = (ax[None, None, :] / 75.0) ** 2
    for k in range(n):  # slice by slice keeps memory low
        r = np.sqrt(x2 + y2 + (ax[k] / 105.0) ** 2)[0]
        s = np.full((n, n), -1000, np.int16)
        s[r < 1.0] = 1000
        s[r < 0.94] = 35
        s += rng.integers(-8, 9, size=(n, n), dtype=np.int16)
        out[k] = s
    return Volume(out, spacing=(spacing,) * 3, origin=(-ax[-1], -ax[-1], -ax[-1]), modality="CT", unit="HU",
                  meta={"SeriesDescription": "generated 512^3"})


def timed(fn, repeat: int) -> float:
    """The fastest of ``repeat`` runs: on a shared machine the minimum is the least disturbed estimate."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs)


def bench(volume, label: str, repeat: int, out: Path) -> list[tuple]:
    from volumeview.render.api import render, render_image
    from volumeview.render.slices import Style
    from volumeview.render.volume import volume_scene

    rows = []
    t = timed(lambda: render(volume, out / "slices.png", mode="slices", preset="brain", size=(1200, 440)), repeat)
    rows.append((label, "slices (3 views, 1200x440 PNG)", t, None))
    t = timed(lambda: render_image(volume, mode="slice", preset="brain", size=(512, 512)), repeat)
    rows.append((label, "slice (512x512)", t, None))
    for mode, preset in (("volume", "CT-Bone"), ("mip", "bone")):
        for mapper in ("cpu", "gpu"):
            first = []
            nxt = []
            for _ in range(max(1, repeat - 1)):
                start = time.perf_counter()
                style = Style.make(size=(512, 512), colorbar=False)
                scene, _, _ = volume_scene(volume, mode=mode, preset=preset, style=style, mapper=mapper)
                scene.set_camera("anterior")
                scene.snapshot()
                first.append(time.perf_counter() - start)
                start = time.perf_counter()
                scene.set_camera("left")
                scene.snapshot()
                nxt.append(time.perf_counter() - start)
                scene.close()
            rows.append((label, f"{mode} 512x512, {mapper} mapper", min(first), min(nxt)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CT phantom only")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    import volumeview

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if PHANTOM.is_dir():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                ct = volumeview.load(PHANTOM)
                print(f"loaded the CT phantom in {time.perf_counter() - start:.2f} s", file=sys.stderr)
            rows += bench(ct, "CT phantom 140x512x512", args.repeat, out)
            del ct
        if not args.quick:
            start = time.perf_counter()
            big = generated_512()
            print(f"generated 512^3 in {time.perf_counter() - start:.2f} s", file=sys.stderr)
            rows += bench(big, "generated 512^3", max(2, args.repeat - 1), out)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the end; fastest of {args.repeat} runs\n")
    print("| data | case | first image (s) | next image, same scene (s) |")
    print("|---|---|---|---|")
    for label, case, first, nxt in rows:
        print(f"| {label} | {case} | {first:.2f} | {'' if nxt is None else f'{nxt:.2f}'} |")


if __name__ == "__main__":
    main()
