"""Archive speed: scanning thousands of files cold and warm, loading a study, and starting the CLI.

Everything is measured in fresh Python processes, alternating, in one run; the
median of ``--repeats`` is reported with the load average. The archive is
generated once by the project's generator into the temp folder (never the repo):
>= 10,000 files, 40 series (CT, MR, PT; 128^2 to 512^2), 8 studies of 4 patients.
Page cache warm (every file was read before the timed runs).

    python benchmarks/bench_archive.py                 # the 10,000-file archive + ../shared/data
    python benchmarks/bench_archive.py --repeats 5

Peers in the same run: a raw read of every byte, SimpleITK's series discovery
(GetGDCMSeriesIDs + GetGDCMSeriesFileNames per folder), a plain pydicom loop,
SimpleITK reading every series of the 2,400-file study, dcm2niix converting it,
and the header libraries alone (dicomsdl, python-gdcm's gdcm.Scanner when installed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VOLUMEVIEW_TEST_DATA") or ROOT.parent / "shared" / "data")
TMP = Path(tempfile.gettempdir())

CHILD = r"""
import json, os, resource, sys, time
which, folder, extra = sys.argv[1], sys.argv[2], sys.argv[3]
t_import = time.perf_counter()
cpu0 = None
def files_under(folder):
    return [os.path.join(d, n) for d, _, ns in os.walk(folder) for n in ns if not n.startswith(".")]
if which == "raw":
    t0 = time.perf_counter(); cpu0 = time.process_time()
    n = 0
    for f in files_under(folder):
        with open(f, "rb") as fp:
            n += len(fp.read())
    out = {"files": len(files_under(folder)), "bytes": n}
elif which in ("cold", "cold-1", "warm", "pydicom-path"):
    import volumeview, volumeview.plugins
    from volumeview.io.loader import scan
    volumeview.plugins.get_plugin_manager()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if which == "pydicom-path":
        os.environ["VOLUMEVIEW_FAST_HEADERS"] = "0"
    if which in ("cold-1", "pydicom-path"):
        os.environ["VOLUMEVIEW_SCAN_WORKERS"] = "1"  # one process, for comparison
    t0 = time.perf_counter(); cpu0 = time.process_time()
    result = scan(folder, index=False if which == "pydicom-path" else extra)
    out = {"series": len(result.series), "files": result.n_files,
           "peak_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}
elif which == "first-series":
    import volumeview, volumeview.plugins
    from volumeview.io.loader import scan, load_series
    volumeview.plugins.get_plugin_manager()
    t0 = time.perf_counter(); cpu0 = time.process_time()
    result = scan(folder, index=extra)
    t_scan = time.perf_counter() - t0
    vol = load_series(result.select())  # the series the viewer opens first: the largest
    out = {"shape": list(vol.shape), "scan_seconds": t_scan}
elif which == "pydicom-loop":
    import pydicom
    t0 = time.perf_counter(); cpu0 = time.process_time()
    for f in files_under(folder):
        try:
            pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:
            pass
    out = {}
elif which == "sitk-discovery":
    import SimpleITK as sitk
    t0 = time.perf_counter(); cpu0 = time.process_time()
    n = 0
    for d, _, _ in os.walk(folder):
        for uid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(d):
            n += len(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(d, uid))
    out = {"files": n}
elif which == "load_all":
    import volumeview, volumeview.plugins
    volumeview.plugins.get_plugin_manager()
    t0 = time.perf_counter(); cpu0 = time.process_time()
    vols = volumeview.load_all(folder, index=extra)
    out = {"volumes": len(vols)}
elif which == "sitk-load":
    import SimpleITK as sitk
    t0 = time.perf_counter(); cpu0 = time.process_time()
    n = 0
    for d, _, _ in os.walk(folder):
        for uid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(d):
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(d, uid))
            reader.Execute()
            n += 1
    out = {"volumes": n}
elif which == "dicomsdl-alone":
    from volumeview.io.headers_dicomsdl import DicomsdlReader
    reader = DicomsdlReader(); reader.is_available
    files = files_under(folder)
    t0 = time.perf_counter(); cpu0 = time.process_time()
    for f in files:
        try:
            reader.read(f)
        except Exception:
            pass
    out = {}
elif which == "gdcm-alone":
    import gdcm
    from volumeview.io.header import SCAN_KEYWORDS, keyword_tag
    files = files_under(folder)
    t0 = time.perf_counter(); cpu0 = time.process_time()
    s = gdcm.Scanner()
    for kw in SCAN_KEYWORDS:
        t = keyword_tag(kw); s.AddTag(gdcm.Tag(t >> 16, t & 0xFFFF))
    s.Scan(files)
    for f in files:
        s.GetMapping(f)
    out = {}
out["seconds"] = time.perf_counter() - t0
out["cpu"] = time.process_time() - cpu0 + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
print(json.dumps(out))
"""


def child(which: str, folder: Path, extra: str = "") -> dict:
    run = subprocess.run([sys.executable, "-c", CHILD, which, str(folder), extra], capture_output=True, text=True)
    if run.returncode:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else f"exit {run.returncode}"}
    return json.loads(run.stdout.strip().splitlines()[-1])


def make_archive(folder: Path) -> Path:
    """40 series, 10,000 files: 4 patients x 2 studies x 5 series (CT 512^2/256^2/128^2, MR 256^2/128^2, PT 128^2)."""
    if (folder / ".done").exists():
        return folder
    from volumeview.datasets import write_series

    shutil.rmtree(folder, ignore_errors=True)
    plan = [("CT", (250, 256, 256)), ("CT", (250, 128, 128)), ("MR", (250, 256, 256)), ("MR", (250, 128, 128)), ("PT", (250, 128, 128))]
    n = 0
    for p in range(4):
        for st in range(2):
            study = f"1.2.826.0.1.3680043.10.1{p}{st}.{p * 10 + st + 1}"
            for number, (modality, shape) in enumerate(plan, start=1):
                if p == 0 and st == 0 and number == 1:
                    shape = (250, 512, 512)  # one 512^2 CT (generating many is slow; reading them is not the point)
                out = folder / f"patient{p}" / f"study{st}" / f"{number:02d}-{modality}"
                write_series(out, modality=modality, shape=shape, seed=n, series_number=number, study_uid=study,
                             description=f"{modality} series {number}", patient_name=f"Bench^Patient{p}",
                             patient_id=f"BENCH{p:03d}", extra_tags={"StudyDate": f"2024{p + 1:02d}{st + 10:02d}",
                                                                     "StudyDescription": f"study {st} of patient {p}"})
                n += 1
                print(f"  generated {n}/40 series", file=sys.stderr, end="\r")
    (folder / ".done").write_text("ok")
    return folder


def make_study(folder: Path) -> Path:
    """One study: 8 series x 300 files = 2,400 files (CT and MR, 256^2)."""
    if (folder / ".done").exists():
        return folder
    from volumeview.datasets import write_series

    shutil.rmtree(folder, ignore_errors=True)
    for s in range(8):
        write_series(folder / f"series{s}", modality="CT" if s % 2 == 0 else "MR", shape=(300, 256, 256), seed=100 + s,
                     series_number=s + 1, study_uid="1.2.826.0.1.3680043.10.999.1", description=f"series {s + 1}")
    (folder / ".done").write_text("ok")
    return folder


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(cmd: list[str], **kw) -> float:
    t0 = time.perf_counter(); cpu0 = time.process_time()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kw)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    archive = make_archive(TMP / "volumeview-bench-archive")
    study = make_study(TMP / "volumeview-bench-study2400")
    folders = {"generated archive": archive}
    if SHARED.exists():
        folders["../shared/data"] = SHARED
    rows = []
    steps = ("raw", "cold", "warm", "cold-1", "sitk-discovery", "pydicom-loop", "pydicom-path", "dicomsdl-alone", "gdcm-alone")
    for name, folder in folders.items():
        child("raw", folder)  # warm the page cache
        res: dict[str, list[float]] = {k: [] for k in steps}
        cpu: dict[str, list[float]] = {k: [] for k in res}
        info: dict[str, dict] = {}
        for _ in range(args.repeats):
            index, other = fresh_index("archive"), fresh_index("archive-one-process")
            for which in steps:
                out = child(which, folder, str(other if which == "cold-1" else index))
                info[which] = out
                if "seconds" in out:
                    res[which].append(out["seconds"])
                    cpu[which].append(out["cpu"])
        n_files = info["raw"]["files"]
        med = {k: median(v) for k, v in res.items()}
        rows.append((name, n_files, med, info, {k: median(v) for k, v in cpu.items()}))
    # The viewer's first series (the largest), index warm: scan + load in process, and the whole viewer process
    first_runs = [child("first-series", archive, str(TMP / f"volumeview-bench-index-archive-{os.getpid()}.sqlite")) for _ in range(args.repeats)]
    exe = str(Path(sys.executable).parent / "volumeview")
    env = dict(os.environ, VOLUMEVIEW_INDEX=str(TMP / f"volumeview-bench-index-archive-{os.getpid()}.sqlite"))
    shot = TMP / f"volumeview-bench-first-{os.getpid()}.png"
    view_times = [timed([exe, "-q", "view", str(archive), "--screenshot", str(shot)], env=env) for _ in range(args.repeats)]
    # load_all of the 2,400-file study against SimpleITK and dcm2niix: cold (empty index) and warm
    child("raw", study)
    load: dict[str, list[float]] = {"load_all cold": [], "load_all warm": [], "sitk-load": [], "dcm2niix": []}
    for _ in range(args.repeats):
        index = fresh_index("study")
        for label, which in (("load_all cold", "load_all"), ("load_all warm", "load_all"), ("sitk-load", "sitk-load")):
            out = child(which, study, str(index))
            if "seconds" in out:
                load[label].append(out["seconds"])
        if shutil.which("dcm2niix"):
            out_dir = Path(tempfile.mkdtemp(prefix="volumeview-bench-dcm2niix-"))
            load["dcm2niix"].append(timed(["dcm2niix", "-z", "n", "-o", str(out_dir), str(study)]))
            shutil.rmtree(out_dir, ignore_errors=True)
    help_times = [timed([exe, "--help"]) for _ in range(args.repeats)]
    one_file = sorted((study / "series0").iterdir())[0]
    info_times = [timed([exe, "--no-index", "info", str(one_file)]) for _ in range(args.repeats)]
    pass_times = [timed([sys.executable, "-c", "pass"]) for _ in range(args.repeats)]
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)

    print(f"\nload average {os.getloadavg()[0]:.1f} (1 min) at the end; median of {args.repeats} runs, fresh processes, {os.cpu_count()} CPUs\n")
    print("| wall s | files | raw read (ms/file) | cold scan | cold / raw | cold / SimpleITK | warm re-open | warm / raw | cold, one process | SimpleITK discovery | pydicom loop | volumeview pydicom-only | header reader alone (dicomsdl + layouts) | gdcm.Scanner alone | cold-scan peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, m, info, _ in rows:
        ms = 1000 * m["raw"] / n
        gd = f"{m['gdcm-alone']:.2f}" if res_ok(m, "gdcm-alone") else "not installed"
        print(f"| {name} | {n} | {m['raw']:.2f} ({ms:.3f}) | {m['cold']:.2f} | {m['cold'] / m['raw']:.1f} | {m['cold'] / m['sitk-discovery']:.2f} | "
              f"{m['warm']:.3f} | {m['warm'] / m['raw']:.2f} | {m['cold-1']:.2f} | {m['sitk-discovery']:.2f} | {m['pydicom-loop']:.2f} | {m['pydicom-path']:.2f} | "
              f"{m['dicomsdl-alone']:.2f} | {gd} | {info['cold'].get('peak_mib', float('nan')):.0f} |")
    print("\nCPU seconds of the same runs (worker processes included):\n")
    print("| CPU s | raw read | cold scan | warm re-open | cold, one process | SimpleITK discovery | pydicom loop | volumeview pydicom-only | header reader alone |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, _, _, c in rows:
        print(f"| {name} | {c['raw']:.2f} | {c['cold']:.2f} | {c['warm']:.3f} | {c['cold-1']:.2f} | {c['sitk-discovery']:.2f} | {c['pydicom-loop']:.2f} | "
              f"{c['pydicom-path']:.2f} | {c['dicomsdl-alone']:.2f} |")
    lc, lw, sl, dn = (median(load[k]) for k in ("load_all cold", "load_all warm", "sitk-load", "dcm2niix"))
    print(f"\n| 2,400-file 8-series study (8 x 300 x 256²) | load_all, index empty | load_all, index warm | SimpleITK | cold / SimpleITK | warm / SimpleITK | dcm2niix |")
    print(f"|---|---:|---:|---:|---:|---:|---:|\n| wall s | {lc:.2f} | {lw:.2f} | {sl:.2f} | {lc / sl:.2f} | {lw / sl:.2f} | {dn:.2f} |")
    fs = [r["seconds"] for r in first_runs if "seconds" in r]
    scan_s = [r["scan_seconds"] for r in first_runs if "scan_seconds" in r]
    print(f"\nviewer's first series of the archive ({first_runs[0].get('shape', '')}), index warm: scan {median(scan_s):.2f} s + load = "
          f"{median(fs):.2f} s in process; the whole `volumeview view --screenshot` process {median(view_times):.2f} s wall")
    print(f"`volumeview --help` {median(help_times):.2f} s wall; `python -c pass` {median(pass_times):.2f} s; "
          f"`volumeview info ONE_FILE` {median(info_times):.2f} s")


def fresh_index(name: str) -> Path:
    index = TMP / f"volumeview-bench-index-{name}-{os.getpid()}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(str(index) + suffix).unlink(missing_ok=True)
    return index


def res_ok(m: dict, key: str) -> bool:
    return m.get(key) == m.get(key)  # not NaN


if __name__ == "__main__":
    main()
