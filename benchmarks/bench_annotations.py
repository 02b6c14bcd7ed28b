"""Annotation speed: RTSTRUCT rasterisation, surfaces of a 512³ label, loading a 100-segment SEG.

Each case is timed against a peer doing comparable work in the same run (a ratio, since the machine is shared):

* rasterising 50 ROIs on a 512² x 200 grid: volumeview (even-odd, all contours of a plane together) against
  Pillow's ImageDraw.polygon drawing the same contours one by one (C code, no even-odd combination);
* a surface of a 512³ label: SurfaceNets3D and discrete flying edges (volumeview.annotations.surface, with
  cropping, smoothing and the move to LPS) against a bare vtkDiscreteMarchingCubes on the full label;
* a 100-segment SEG on a 512² x 300 CT: ``load_segmentation`` (read + segment list) and every mask one at a time,
  against pydicom.dcmread of the same file (the floor: reading the bytes). Peak memory is tracked by
  tracemalloc (numpy reports its buffers to it) as a multiple of one full-size mask.

    python benchmarks/bench_annotations.py            # all three
    python benchmarks/bench_annotations.py --quick    # smaller SEG (100 segments on 512² x 60)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np


CPU: dict[str, float] = {}  # CPU seconds of the last ``best`` run of each case (the machine is shared)


def best(fn, repeat: int = 3, name: str = "") -> float:
    """Fastest wall time of ``repeat`` runs; the CPU time of that run goes to ``CPU[name]``."""
    times = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    wall, cpu = min(times)
    if name:
        CPU[name] = cpu
    return wall


def bench_rasterise(tmp: Path) -> list[tuple[str, float, str]]:
    import volumeview
    from volumeview.annotations import synthetic as syn
    from volumeview.annotations.rtstruct import read_rtstruct

    rng = np.random.default_rng(0)
    grid = volumeview.Volume(np.broadcast_to(np.zeros((), np.int16), (200, 512, 512)), spacing=(0.8, 0.8, 1.5),
                             origin=(-204.4, -204.4, -150.0), meta={"FrameOfReferenceUID": "1.2.3"})
    zs = grid.origin[2] + np.arange(200) * 1.5
    rois = {}
    for n in range(50):
        r = float(rng.uniform(10, 60))
        c = rng.uniform(-120, 120, 3)
        c[2] = rng.uniform(-120, 120)
        rois[f"roi{n}"] = syn.sphere_contours(c, r, zs, n=180)
    path = syn.write_rtstruct(None, rois, tmp / "rs50.dcm", frame_of_reference="1.2.3")
    n_contours = sum(len(v) for v in rois.values())

    def ours():
        seg = read_rtstruct(path, reference=grid)
        for s in seg.segments:
            seg.mask_source(s.number)

    def pillow():
        from PIL import Image, ImageDraw

        for contours in rois.values():
            mask = np.zeros((200, 512, 512), bool)
            for pts in contours:
                ijk = grid.lps_to_index(pts)
                k = int(round(ijk[0, 2]))
                img = Image.new("1", (512, 512))
                ImageDraw.Draw(img).polygon([tuple(p) for p in ijk[:, :2]], fill=1)
                mask[k] |= np.asarray(img)

    t_ours, t_peer = best(ours, 2, "raster"), best(pillow, 2)
    return [(f"rasterise 50 ROIs ({n_contours} contours) on 512x512x200, read + all masks", t_ours, CPU["raster"],
             f"Pillow ImageDraw {t_peer:.2f} s (x{t_ours / t_peer:.2f})")]


def bench_surface() -> list[tuple[str, float, str]]:
    import vtk

    from volumeview import Volume
    from volumeview.annotations.surface import mask_surface

    n = 512
    k, j, i = np.ogrid[:n, :n, :n]
    label = (((i - 256) ** 2 + (j - 256) ** 2) / 200**2 + (k - 256) ** 2 / 230**2 <= 1).astype(np.uint8)
    grid = Volume(np.broadcast_to(np.zeros((), np.uint8), label.shape), spacing=(0.7, 0.7, 0.7))
    rows = []
    for method in ("surfacenets", "flyingedges"):
        t = best(lambda: mask_surface(label, grid, method=method, smooth=15), 2, method)
        rows.append((f"surface of a 512^3 label ({method}, 15 smoothing iterations)", t, CPU[method], ""))

    def peer():
        from volumeview.annotations.surface import _image_data

        f = vtk.vtkDiscreteMarchingCubes()
        f.SetInputData(_image_data(label, grid.spacing))
        f.SetValue(0, 1)
        f.Update()

    t_peer = best(peer, 2)
    rows = [(name, t, cpu, f"bare vtkDiscreteMarchingCubes {t_peer:.2f} s (x{t / t_peer:.2f})") for name, t, cpu, _ in rows]
    return rows


def bench_seg(tmp: Path, n_slices: int) -> list[tuple[str, float, str]]:
    import pydicom

    import volumeview
    from volumeview.datasets import write_series

    folder = Path(tempfile.gettempdir()) / f"volumeview-bench-segct-{n_slices}"
    if not (folder / ".done").exists():
        print(f"generating a {n_slices} x 512 x 512 CT in {folder} ...", file=sys.stderr)
        write_series(folder, shape=(n_slices, 512, 512), spacing=(0.8, 0.8, 1.5), shuffle=False)
        (folder / ".done").write_text("ok")
    ct = volumeview.load(folder)
    seg_path = tmp / "seg100.dcm"
    rng = np.random.default_rng(1)
    labels = np.zeros(ct.shape, np.uint8)
    span = max(n_slices // 10, 3)
    for s in range(1, 101):  # 100 boxes, each over ~10 % of the slices
        k0 = int(rng.integers(0, n_slices - span))
        j0, i0 = (int(v) for v in rng.integers(0, 512 - 60, 2))
        labels[k0:k0 + span, j0:j0 + 60, i0:i0 + 60] = s
    print("writing the 100-segment SEG ...", file=sys.stderr)
    volumeview.write_seg(ct.with_array(labels), folder, seg_path)
    size_mb = os.path.getsize(seg_path) / 1e6
    full_mask = int(np.prod(ct.shape))
    del labels

    def load_only():
        return volumeview.load_segmentation(seg_path, reference=ct)

    t_load = best(load_only, 2, "seg")
    seg = load_only()
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    voxels = 0
    for s in seg.segments:
        voxels += int(np.count_nonzero(seg.mask_source(s.number)))
    t_masks, c_masks = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t_peer = best(lambda: pydicom.dcmread(seg_path).PerFrameFunctionalGroupsSequence[-1], 2)
    from volumeview.annotations.seg import read_seg

    t_hd = best(lambda: read_seg(seg_path, reference=ct, engine="highdicom"), 1)
    return [
        (f"load a 100-segment SEG ({size_mb:.0f} MB) on 512x512x{n_slices}", t_load, CPU["seg"],
         f"pydicom.dcmread {t_peer:.2f} s (x{t_load / t_peer:.2f}); through highdicom {t_hd:.2f} s"),
        (f"all 100 masks, one at a time ({voxels} voxels)", t_masks, c_masks,
         f"peak traced memory {peak / full_mask:.1f} full-size masks"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_rasterise(Path(tmp))
        rows += bench_surface()
        rows += bench_seg(Path(tmp), 60 if args.quick else 300)
    load = os.getloadavg()
    print(f"\n{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; best of 2 runs\n")
    print("| case | wall s | CPU s | peer / note |\n|---|---:|---:|---|")
    for name, seconds, cpu, note in rows:
        print(f"| {name} | {seconds:.2f} | {cpu:.2f} | {note} |")


if __name__ == "__main__":
    main()
