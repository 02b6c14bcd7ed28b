"""What an overlay adds to a 512x512 slice picture (issue 9: at most 20 ms).

A generated 200 x 512 x 512 int16 CT and, on the same grid, the cases users meet:
a 10-segment label map (nnU-Net / TotalSegmentator output), the same as outlines only,
a SEG whose segments overlap (three masks packed into two label layers), and a dose grid
(2.5 mm, Gy) as a colour wash. Each case is the fastest of ``--repeat`` runs of
``render_slice`` (512x512, annotations on) minus the fastest run without an overlay, in the
same process, interleaved, both as wall time and as process CPU time; the last column times the overlay's
own drawing (blend and legend) on its own, the steadiest figure on a shared machine; the one-time work (packing masks into label layers) is shown separately.

    python benchmarks/bench_overlay.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def timed(fn, repeat: int) -> tuple[float, float]:
    """Fastest wall time and fastest process CPU time of ``repeat`` runs (CPU time is what the code costs;
    on a machine shared with other work the wall time also holds the waits for a core)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> None:
    from volumeview import Volume
    from volumeview.annotations import Segment, Segmentation
    from volumeview.render import overlay
    from volumeview.render.slices import render_slice

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    shape = (200, 512, 512)
    ct = Volume(np.random.default_rng(0).integers(-100, 100, shape, dtype=np.int16), spacing=(0.8, 0.8, 2.0),
                origin=(-204.4, -204.4, 0.0), modality="CT", unit="HU")
    k, j, i = np.ogrid[:shape[0], :shape[1], :shape[2]]
    labels = np.zeros(shape, np.uint8)
    for n in range(10):  # ten balls of 30-60 mm around the centre plane
        cx, cy, cz = 120 + 30 * (n % 5) + 20, 150 + 120 * (n // 5), 100
        r = 20 + 3 * n
        labels[((i - cx) ** 2 + (j - cy) ** 2 + ((k - cz) * 2.5) ** 2) < r * r] = n + 1
    segments = [Segment(n + 1, f"organ {n + 1}", (n / 10, 1 - n / 10, 0.5)) for n in range(10)]
    labelmap = Segmentation.from_labelmap(ct.with_array(labels), segments)
    masks = {1: labels == 1, 2: (labels == 1) | (labels == 2), 3: labels == 3}  # 2 overlaps 1
    overlapping = Segmentation(segments[:3], ct, lambda n: masks[n])
    z, y, x = np.mgrid[0:80, 0:164, 0:164].astype(np.float32)
    dose = Volume((70 * np.exp(-((x - 82) ** 2 + (y - 82) ** 2 + (z - 40) ** 2) / 900)).astype(np.float32),
                  spacing=(2.5, 2.5, 2.5), origin=(-204.0, -204.0, 0.0), modality="RTDOSE", unit="Gy")
    centre = ct.index_to_lps([256, 256, 100])
    common = dict(view="axial", point=centre, preset="abdomen", size=(512, 512))
    start = time.perf_counter()
    overlay.label_layers(overlapping)
    packing = time.perf_counter() - start
    cases = [
        ("10-segment label map, fill + outline + legend", dict(overlays=[labelmap])),
        ("10-segment label map, outline only", dict(overlays=[labelmap], outline_only=True)),
        ("3 overlapping SEG segments (2 layers)", dict(overlays=[overlapping])),
        ("dose wash (2.5 mm grid) + Gy bar", dict(overlays=[dose])),
        ("label map + dose", dict(overlays=[labelmap, dose])),
    ]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; fastest of {args.repeat} runs; "
          f"512x512 axial slice of a {shape[0]}x{shape[1]}x{shape[2]} CT\n")
    from PIL import Image

    from volumeview.render import orient, resample

    axes = orient.view_axes("axial")
    plane = resample.fit_plane(ct, axes.right, axes.up, 512, 512, point=centre)
    rgb = np.zeros((512, 512, 3), np.uint8)
    canvas = Image.new("RGB", (512, 512))

    def drawing(ov):  # the overlay's own work in a picture: blend into the slice, then the legend
        overlay.draw(rgb, ov, plane)
        overlay.draw_legend(canvas, (0, 0, 512, 512), ov)

    render_slice(ct, **common)  # warm-up: fonts, colour maps, caches
    pictures = {name: [] for name, _ in [("no overlay", None), *cases]}
    for _ in range(args.repeat):  # interleaved, so drift in the machine's load hits every case alike
        pictures["no overlay"].append(timed(lambda: render_slice(ct, **common), 1))
        for name, options in cases:
            pictures[name].append(timed(lambda: render_slice(ct, **common, **options), 1))
    best = {name: (min(w for w, _ in runs), min(c for _, c in runs)) for name, runs in pictures.items()}
    base = best["no overlay"]
    print("| case | picture, wall (ms) | added, wall (ms) | picture, CPU (ms) | added, CPU (ms) | "
          "overlay drawing alone, CPU (ms) |\n|---|---:|---:|---:|---:|---:|")
    print(f"| no overlay | {base[0] * 1000:.1f} | | {base[1] * 1000:.1f} | | |")
    for name, options in cases:
        wall, cpu = best[name]
        ov = overlay.make_overlay(ct, options["overlays"], outline_only=options.get("outline_only", False))
        alone = timed(lambda: drawing(ov), args.repeat)[1]
        print(f"| {name} | {wall * 1000:.1f} | {(wall - base[0]) * 1000:.1f} | {cpu * 1000:.1f} | "
              f"{(cpu - base[1]) * 1000:.1f} | {alone * 1000:.1f} |")
    print(f"\nOne-time packing of the overlapping SEG's masks into label layers: {packing * 1000:.0f} ms. "
          f"Load average at the end {os.getloadavg()[0]:.1f}.")


if __name__ == "__main__":
    main()
