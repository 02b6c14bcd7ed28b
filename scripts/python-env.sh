# Sourced by examples/demo.sh and scripts/test.sh: choose the Python that volumeview is installed into.
#
# An active virtualenv or conda environment is used as it is. Otherwise, e.g. a stock Debian 12 or
# Ubuntu 24.04 python3, where pip refuses to install into the system (PEP 668,
# "externally-managed-environment"), a .venv beside the repo is created once and used.
# PYTHON=/path/to/python3 picks the interpreter (default: python3 on PATH).
# As root on Debian/Ubuntu, a missing python3-venv is installed with apt-get (printed, not hidden).

volumeview_python() {
  local base="${PYTHON:-python3}"
  if [ -n "${VIRTUAL_ENV:-}" ] || [ -n "${CONDA_PREFIX:-}" ]; then
    PY="$base"
    echo "== using the active environment: $(command -v "$base") =="
    return
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "== no virtualenv or conda env is active: creating .venv with $base -m venv =="
    if ! "$base" -m venv .venv; then
      rm -rf .venv
      if [ "$(id -u)" = 0 ] && [ -x /usr/bin/apt-get ]; then
        echo "== apt-get install python3-venv (Debian/Ubuntu ship venv separately) =="
        apt-get install -y -q --no-install-recommends python3-venv
        "$base" -m venv .venv
      else
        echo "Error: '$base -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2
        exit 1
      fi
    fi
  fi
  PY=.venv/bin/python
  echo "== using $PY (activate it with: source .venv/bin/activate) =="
}

# Debian/Ubuntu packages the pictures need, installed only as root and only when missing, always printed:
# EGL + Mesa for offscreen VTK, a CJK font for Korean/Japanese/Chinese header text.
volumeview_apt() {
  [ -x /usr/bin/apt-get ] || return 0
  local wanted=("$@") have missing=()
  have=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>&1 | awk '$2 == "installed" {print $1}')
  for p in "${wanted[@]}"; do
    grep -qx "$p" <<<"$have" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ]; then
    echo "== apt-get install ${missing[*]} =="
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "Note: not root, so not installing Debian packages. If pictures fail or CJK text shows as boxes:"
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}"
  fi
}

VOLUMEVIEW_APT_BASE=(libegl1 libegl-mesa0 libgl1-mesa-dri fonts-noto-cjk fontconfig)
