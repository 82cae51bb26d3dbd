#!/usr/bin/env bash
# Installs every Debian 12 package Sluice needs to build, test, fuzz and benchmark.
# Skips apt entirely when all are present, so repeated runs cost nothing.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config git
  libasio-dev protobuf-compiler libprotobuf-dev libzstd-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libexpected-dev libcli11-dev libtomlplusplus-dev
  clang libclang-rt-14-dev clang-tidy clang-format
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
