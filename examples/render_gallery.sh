#!/usr/bin/env bash
# Every render mode from the command line on the real data beside the repo (CT, oblique MR, 4D EPI, US cine).
#   bash examples/render_gallery.sh [OUTDIR]        # default examples/out/
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-examples/out}"
DATA="../shared/data"
mkdir -p "$OUT"
CT="$DATA/ct-head-phantom/dicom"

volumeview render "$CT" -o "$OUT/ct_slices.png" --mode slices --preset brain
volumeview render "$CT" -o "$OUT/ct_slice_sagittal.png" --mode slice --view sagittal --preset bone
volumeview render "$CT" -o "$OUT/ct_grid.png" --mode grid --windows brain,subdural,bone
volumeview render "$CT" -o "$OUT/ct_volume.png" --mode volume --preset CT-Bone
volumeview render "$CT" -o "$OUT/ct_mip_left.png" --mode mip --camera left --preset bone
volumeview render "$CT" -o "$OUT/ct_turntable.gif" --mode movie --movie turntable --frames 24 --size 320x320 --preset CT-Bone
volumeview render "$CT" -o "$OUT/ct_sweep.mp4" --mode movie --movie sweep --frames 40 --preset brain

volumeview render "$DATA/mr-adc-oblique/dicom" -o "$OUT/mr_oblique_slices.png" --mode slices
volumeview render "$DATA/mr-epi-4d/In" --series 1 -o "$OUT/mr_epi_cine.gif" --mode movie --size 256x256

US=$(python3 -c "import pydicom.data as d; print(d.get_testdata_file('color3d_jpeg_baseline.dcm') or '')")
if [ -n "$US" ]; then
  volumeview render "$US" -o "$OUT/us_cine.gif" --mode movie --frames 30 --size 320x240
fi
volumeview render "$DATA/mr-epi-4d/In" --batch "$OUT/epi_batch" --workers 2 --mode slices --size 600x220
