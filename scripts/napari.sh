#!/usr/bin/env bash
# Set up a fresh machine and start napari with the plugin: the sample data, or the file given.
#   bash scripts/napari.sh                 # synthetic 3-channel cells
#   bash scripts/napari.sh FILE [--scene N]
# Without a screen it runs under Xvfb and saves what napari shows to lightmic-screenshot.png.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$VENV/bin/lightmic" view "$@"
fi
echo "No screen: running under Xvfb; the window is saved to lightmic-screenshot.png"
exec xvfb-run -a -s "-screen 0 1280x1024x24" "$VENV/bin/lightmic" view "$@" \
  --screenshot lightmic-screenshot.png
