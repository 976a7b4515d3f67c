#!/usr/bin/env bash
# Installs the Debian 12 packages Squint builds and tests with.
# Usage: tools/install-deps.sh            (uses sudo when not root)
set -euo pipefail

packages=(
  # build
  gcc meson ninja-build pkg-config
  # engine
  libpcre2-dev libstb-dev libcjson-dev
  # terminal assistant
  libedit-dev
  # OpenCL backend (PoCL runs it on the CPU where there is no GPU)
  ocl-icd-opencl-dev opencl-headers libclblast-dev pocl-opencl-icd
  # model's-eye view
  libsdl2-dev
  # HTTP server and client
  libsoup-3.0-dev libjson-glib-dev curl
  # desktop app
  libgtk-4-dev libadwaita-1-dev libpoppler-glib-dev libsqlite3-dev
  adwaita-icon-theme librsvg2-common shared-mime-info gettext fonts-dejavu-core
  # desktop app tests: a virtual display and the validators
  xvfb xauth desktop-file-utils appstream
  # tests: fuzzing (libFuzzer ships with clang), sanitizers
  clang
)
# Node.js runs the official openai client against squint-server in the tests;
# a machine that already has node and npm (e.g. from NodeSource) keeps them.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
