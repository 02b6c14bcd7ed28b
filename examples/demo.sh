#!/usr/bin/env bash
# A fresh machine, one command: install volumeview, generate a synthetic head CT with a
# gantry tilt and a Korean series description, list it, render it headless, and export it.
# Outputs go to examples/out/demo/.
# Works in an active venv/conda env, and with a stock Debian/Ubuntu python3 (it then creates .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-examples/out/demo}"
source scripts/python-env.sh

# As root: offscreen OpenGL for VTK (EGL + Mesa) and a CJK font, when missing (printed, not hidden).
volumeview_apt "${VOLUMEVIEW_APT_BASE[@]}"
volumeview_python
"$PY" -m pip install -q -e ".[render]"
vv() { "$PY" -m volumeview "$@"; }

rm -rf "$out" && mkdir -p "$out"
echo "== generate: a 150-slice head CT (skull, brain, eyes, sinuses, a marker on the left; 1.2 mm point-spread, 6 HU noise), 12 degree gantry tilt, shuffled file names, Korean description =="
vv generate "$out/dicom" --modality CT --shape 150x192x192 --spacing 1.0x1.0x1.2 --tilt 12 \
  --phantom head --psf 1.2 --noise 6 --seed 7 --description "두부 CT (합성 팬텀)" --charset korean

echo "== info: series, geometry, values, tags, warnings =="
vv info "$out/dicom"

echo "== render: three views, brain/subdural/bone grid, bone volume rendering =="
vv render "$out/dicom" -o "$out/slices.png" --mode slices --preset brain
vv render "$out/dicom" -o "$out/grid.png" --mode grid --windows brain,subdural,bone
vv render "$out/dicom" -o "$out/volume.png" --mode volume --preset CT-Bone --camera anterior

echo "== inspect: raw, rescaled (HU) and windowed slice with histograms =="
vv inspect "$out/dicom" --window 40,80 -o "$out/inspect.png" --size 1200x720 > "$out/inspect.txt"
echo "tags written to $out/inspect.txt"

echo "== export: NIfTI (RAS on disk, via SimpleITK) =="
vv export "$out/dicom" "$out/head.nii.gz"
ls -l "$out"
