#!/usr/bin/env bash
# A fresh machine, one command: install volumeview, generate a synthetic head CT with a
# gantry tilt, list it, render it headless, and export it. Outputs go to examples/out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-examples/out/demo}"

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  # Offscreen OpenGL for VTK (EGL + Mesa). Already present on most desktops.
  apt-get install -y -qq --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1 || true
fi
python3 -m pip install -q -e ".[render]"

rm -rf "$out" && mkdir -p "$out"
echo "== generate: a 150-slice head CT (skull, brain, eyes, sinuses, a marker on the left; 1.2 mm point-spread, 6 HU noise), 12 degree gantry tilt, shuffled file names =="
volumeview generate "$out/dicom" --modality CT --shape 150x192x192 --spacing 1.0x1.0x1.2 --tilt 12 \
  --phantom head --psf 1.2 --noise 6 --seed 7

echo "== info: series, geometry, values, warnings =="
volumeview info "$out/dicom"

echo "== render: three views, brain/subdural/bone grid, bone volume rendering =="
volumeview render "$out/dicom" -o "$out/slices.png" --mode slices --preset brain
volumeview render "$out/dicom" -o "$out/grid.png" --mode grid --presets brain,subdural,bone
volumeview render "$out/dicom" -o "$out/volume.png" --mode volume --preset CT-Bone --camera anterior

echo "== export: NIfTI (RAS on disk, via SimpleITK) =="
volumeview export "$out/dicom" "$out/head.nii.gz"
ls -l "$out"
