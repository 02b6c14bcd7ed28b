"""Viewer responsiveness on the CT head phantom (140 x 512 x 512 int16), at the default window size.

The viewer's own scene (four panes, 1024x768, offscreen EGL: the same VTK
pipeline the window and the browser use) is timed from the state change to
the finished frame (``vtkRenderWindow.Render``):

* slice update: one slice step in the axial pane, which moves the crosshair
  in every pane and the plane in the 3D pane; the volume rendering is drawn
  at its interactive quality, as while scrolling (target < 50 ms);
* volume rotation: 5 degrees of azimuth in the 3D pane, at interactive
  quality (during a drag) and at full quality (the frame after release)
  (target < 300 ms);
* the first frame, from the loaded Volume to the first picture;
* slab update: a slice step in the axial pane showing a 20 mm MIP slab (VTK's slab
  reslicing, ``vtkImageResliceMapper.SetSlabThickness``), all four panes redrawn (target < 100 ms);
* oblique rotation step: the axial plane turned by 1 degree (as one step of a Ctrl+Alt
  drag), all four panes redrawn (target < 80 ms).

Timings depend on the other work on the machine: the load average is printed.

    python benchmarks/bench_viewer.py            # markdown table on stdout
    python benchmarks/bench_viewer.py --repeat 40
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHANTOM = ROOT.parent / "shared" / "data" / "ct-head-phantom" / "dicom"
SIZE = (1024, 768)


def frame_times(step, render, repeat: int) -> tuple[float, float]:
    """Median and 90th percentile (ms) of ``step(); render()``."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        render()
        runs.append((time.perf_counter() - start) * 1000.0)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(0.9 * len(runs)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--data", type=Path, default=PHANTOM)
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"CT phantom not found at {args.data}", file=sys.stderr)
        return 1

    import volumeview
    from volumeview.viewer.desktop import build

    vol = volumeview.load(args.data)
    start = time.perf_counter()
    plotter, scene, state = build([vol], size=SIZE, off_screen=True)
    window = plotter.render_window
    scene.set_quality(interactive=False)
    window.Render()
    first_ms = (time.perf_counter() - start) * 1000.0

    direction = [1]

    def slice_step() -> None:
        direction[0] = -direction[0]  # back and forth around the centre slice
        state.move_slice("axial", direction[0])
        scene.update()

    camera = scene.renderers["3d"].GetActiveCamera()

    def rotate() -> None:
        camera.Azimuth(5.0)
        scene.renderers["3d"].ResetCameraClippingRange()

    rows = []
    scene.set_quality(interactive=True)
    rows.append(("slice update (all four panes, volume at interactive quality)", *frame_times(slice_step, window.Render, args.repeat), "< 50"))
    state.show_volume = False
    scene.update()
    rows.append(("slice update, 3D volume hidden (`o`)", *frame_times(slice_step, window.Render, args.repeat), "< 50"))
    state.show_volume = True
    scene.update()
    rows.append(("volume rotation, interactive quality (while dragging)", *frame_times(rotate, window.Render, args.repeat), "< 300"))
    scene.set_quality(interactive=False)
    rows.append(("volume rotation, full quality (frame after release)", *frame_times(rotate, window.Render, max(3, args.repeat // 4)), "< 300"))

    scene.set_quality(interactive=True)
    state.reading.set_slab("axial", "mip", 20.0)
    scene.update()
    window.Render()
    rows.append(("20 mm MIP slab in the axial pane: slice update (volume at interactive quality)", *frame_times(slice_step, window.Render, args.repeat), "< 100"))
    state.show_volume = False
    scene.update()
    rows.append(("20 mm MIP slab: slice update, 3D volume hidden", *frame_times(slice_step, window.Render, args.repeat), "< 100"))
    state.show_volume = True
    state.reading.set_slab("axial", None)
    scene.update()
    state.reading.rotate("axial", about="up", degrees=20.0)  # oblique already, then steps back and forth
    turn = [1.0]

    def oblique_step() -> None:
        turn[0] = -turn[0]
        state.reading.rotate("axial", about="up", degrees=turn[0])
        scene.update()

    rows.append(("oblique rotation step: axial plane 1 degree (volume at interactive quality)", *frame_times(oblique_step, window.Render, args.repeat), "< 80"))
    state.show_volume = False
    scene.update()
    rows.append(("oblique rotation step, 3D volume hidden", *frame_times(oblique_step, window.Render, args.repeat), "< 80"))
    plotter.close()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CT phantom {vol.shape[2]}x{vol.shape[1]}x{vol.shape[0]} int16, window {SIZE[0]}x{SIZE[1]} "
          f"(panes {SIZE[0] // 2}x{SIZE[1] // 2}), {os.cpu_count()} CPUs, VTK offscreen "
          f"{os.environ.get('VTK_DEFAULT_OPENGL_WINDOW', 'default')}, load average {load:.1f}\n")
    print("| case | median (ms) | 90th percentile (ms) | target (ms) |")
    print("|---|---:|---:|---:|")
    print(f"| first frame (scene built from the loaded volume) | {first_ms:.0f} | | |")
    for name, median, p90, target in rows:
        print(f"| {name} | {median:.0f} | {p90:.0f} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
