#!/usr/bin/env bash
# Everything a fresh machine needs: Qt's system libraries and Xvfb, a virtual env, the plugin.
# Sourced by scripts/test.sh and scripts/napari.sh; safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LIGHTMIC_VENV:-$ROOT/.venv}"

# Qt 6 (xcb platform) and a virtual X server for machines without a screen.
DEB_PACKAGES=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 libxcb-shape0 libxcb-cursor0 libxkbcommon-x11-0
  libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1)
# Java for Bio-Formats, which the interop tests run on OME-TIFF outputs (tests/interop).
command -v java >/dev/null || DEB_PACKAGES+=(openjdk-17-jre-headless)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${LIGHTMIC_PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ "${CI:-}" = "true" ] || [ ! -x "$VENV/bin/python" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# CI tests a regular install, as users get it; elsewhere an editable one, so that running the
# main job does not replace the working tree's code under the tests with a copy.
if [ "${CI:-}" = "true" ]; then
  "$VENV/bin/python" -m pip install -q "$ROOT[test]"
else
  "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
fi
