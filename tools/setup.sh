#!/usr/bin/env bash
# Installs the Debian (bookworm) packages Portolan needs to build and test. Idempotent: packages
# already installed are left alone, and nothing is fetched when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libjq-dev jq                 # jq runtime (libjq 1.6) and the jq CLI used by benchmarks
  libsimdjson-dev              # payload parser for the native jq evaluator
  rapidjson-dev libyaml-cpp-dev libspdlog-dev libsqlite3-dev libcli11-dev
  libboost1.81-dev libssl-dev  # the server: Boost.Beast/Asio, OpenSSL (TLS, HMAC)
  openssl curl                 # test certificates; the end-to-end scripts' HTTP client
  libgtest-dev libgmock-dev
  time bc gojq                 # tools/bench/bench.sh (gojq: the second jq CLI compared)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
