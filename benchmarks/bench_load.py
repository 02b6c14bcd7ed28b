"""Load speed and memory: ``volumeview.load`` against SimpleITK's ImageSeriesReader, same series, same run.

Each measurement runs in a fresh Python process (so peak memory is that
load's own), alternating the two readers, repeated; the median is reported.
Peak memory is the process's peak RSS above its RSS after imports, as a
multiple of the volume's own bytes.

    python benchmarks/bench_load.py                 # CT phantom + generated 1000 x 512^2 CT
    python benchmarks/bench_load.py --quick         # CT phantom only
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHANTOM = ROOT.parent / "shared" / "data" / "ct-head-phantom" / "dicom"

CHILD = r"""
import json, resource, sys, time
import numpy as np, psutil, SimpleITK as sitk
import volumeview, volumeview.plugins
which, folder = sys.argv[1], sys.argv[2]
volumeview.plugins.get_plugin_manager()  # plugin discovery is start-up cost, like SimpleITK's import
base = psutil.Process().memory_info().rss
t0 = time.perf_counter()
if which == "volumeview":
    arr = volumeview.load(folder).array
else:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
    img = reader.Execute()
    arr = sitk.GetArrayViewFromImage(img)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak_above_base": peak - base, "nbytes": int(arr.nbytes),
                  "shape": list(arr.shape), "dtype": str(arr.dtype)}))
"""


def measure(which: str, folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, which, str(folder)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def generated_ct(n_slices: int) -> Path:
    folder = Path(tempfile.gettempdir()) / f"volumeview-bench-ct-{n_slices}"
    if not (folder / ".done").exists():
        from volumeview.datasets import write_series

        print(f"generating {n_slices} x 512 x 512 CT in {folder} ...", file=sys.stderr)
        write_series(folder, shape=(n_slices, 512, 512), spacing=(0.5, 0.5, 0.5), shuffle=True)
        (folder / ".done").write_text("ok")
    return folder


def bench(name: str, folder: Path, repeats: int) -> dict:
    runs = {"volumeview": [], "simpleitk": []}
    for _ in range(repeats):
        for which in runs:
            runs[which].append(measure(which, folder))
    row = {"series": name}
    for which, results in runs.items():
        row[f"{which}_s"] = statistics.median(r["seconds"] for r in results)
        row[f"{which}_mem"] = statistics.median(r["peak_above_base"] / r["nbytes"] for r in results)
        row["shape"] = "x".join(map(str, results[0]["shape"]))
        row[f"{which}_dtype"] = results[0]["dtype"]
    row["time_ratio"] = row["volumeview_s"] / row["simpleitk_s"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the CT phantom")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slices", type=int, default=1000, help="slices of the generated CT")
    args = parser.parse_args()
    cases = [("ct-head-phantom (real)", PHANTOM)]
    if not args.quick:
        cases.append((f"generated CT {args.slices} x 512²", generated_ct(args.slices)))
    for _, folder in cases:  # warm the page cache once so both readers see the same disk state
        measure("volumeview", folder)
    rows = [bench(name, folder, args.repeats) for name, folder in cases]
    print("| series | shape (k,j,i) | volumeview s | SimpleITK s | time ratio (target <= 0.5) | volumeview peak mem / volume bytes (target <= 1.3) | SimpleITK peak mem / volume bytes |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['series']} | {r['shape']} | {r['volumeview_s']:.2f} | {r['simpleitk_s']:.2f} | {r['time_ratio']:.2f} | "
            f"{r['volumeview_mem']:.2f} | {r['simpleitk_mem']:.2f} |"
        )


if __name__ == "__main__":
    main()
