#!/usr/bin/env bash
# The DORA demo: installs what is needed, builds portolan, loads the DORA pack
# (blueprints/dora) into a fresh workspace, replays the bundled GitHub and PagerDuty payloads
# (examples/dora/data) through the pack's Ocean mappings, and prints the team and service DORA
# tables with tiers. The clock is pinned to the end of the example data so the output is the
# same on every machine.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/setup.sh >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target portolan >&2

portolan=build/bin/portolan
export PORTOLAN_WORKSPACE="${PORTOLAN_WORKSPACE:-build/dora-demo}"
rm -rf "$PORTOLAN_WORKSPACE"
now="--now=${DEMO_NOW:-2026-11-01T00:00:00Z}"
maps=blueprints/dora/mappings
data=examples/dora/data

echo "== workspace $PORTOLAN_WORKSPACE" >&2
"$portolan" apply -f blueprints/dora
"$portolan" "$now" sync -m "$maps/github-teams.yaml" "$data/teams.json"
"$portolan" "$now" sync -m "$maps/github-repositories.yaml" "$data/repositories.json"
"$portolan" "$now" sync -m "$maps/github-pull-requests.yaml" "$data/pull_requests.json"
"$portolan" "$now" sync -m "$maps/github-pr-deployments.yaml" "$data/pull_requests.json"
"$portolan" "$now" sync -m "$maps/pagerduty-incidents.yaml" "$data/incidents.json"
echo >&2
"$portolan" "$now" -o "${DEMO_OUTPUT:-table}" dora
