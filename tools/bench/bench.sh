#!/usr/bin/env bash
# Benchmarks behind docs/benchmarks.md. Builds Release, generates the data sets in a scratch
# directory (default build/bench), and prints the figures.
#   tools/bench/bench.sh [PRS=100000]
set -euo pipefail
cd "$(dirname "$0")/../.."
prs=${1:-100000}
out=${BENCH_DIR:-build/bench}
mkdir -p "$out"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target portolan gen_github_prs gen_catalog >/dev/null
bin=build/bin

secs() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

echo "== map: $prs GitHub pull-request payloads, seed 003 PR -> deployment mapping"
[ -s "$out/prs.jsonl" ] || "$bin/gen_github_prs" --count "$prs" --format jsonl > "$out/prs.jsonl"
mb=$(( $(stat -c %s "$out/prs.jsonl") / 1000000 ))
cat > "$out/prog.jq" <<'JQ'
if (.base.ref == "main" and .state == "closed" and .merged_at != null) then {identifier: (.head.repo.name + "-deploy-" + (.number | tostring)), title: ("Deploy: " + .title), blueprint: "deployment", properties: {environment: "Production", deploymentStatus: "Success", createdAt: .merged_at}, relations: {service: .head.repo.name, pullRequest: (.head.repo.name + (.id|tostring))}} else empty end
JQ
read -r p_s p_kb < <(secs "$bin/portolan" -q map -m blueprints/dora/mappings/github-pr-deployments.yaml "$out/prs.jsonl")
read -r j_s j_kb < <(secs jq -c -f "$out/prog.jq" "$out/prs.jsonl")
printf "portolan map  %6.2f s  %8.0f payloads/s  %5.0f MB/s  peak %4d MB\n" "$p_s" \
  "$(echo "$prs / $p_s" | bc -l)" "$(echo "$mb / $p_s" | bc -l)" $((p_kb / 1024))
printf "jq 1.6 CLI    %6.2f s  %8.0f payloads/s  %5.0f MB/s  peak %4d MB\n" "$j_s" \
  "$(echo "$prs / $j_s" | bc -l)" "$(echo "$mb / $j_s" | bc -l)" $((j_kb / 1024))

echo "== get: 10 blueprints, 100k entities"
ws="$out/catalog-ws"
if [ ! -s "$ws/portolan.db" ]; then
  "$bin/gen_catalog" --out "$out" --blueprints 10 --entities 100000 2>/dev/null
  "$bin/portolan" -q -w "$ws" apply -f "$out/blueprints.json"
  read -r i_s _ < <(secs "$bin/portolan" -q -w "$ws" ingest -m tools/bench/catalog-mapping.yaml "$out/entities.jsonl")
  echo "ingest 100k entities: $i_s s"
fi
start=$(date +%s%N)
for _ in $(seq 20); do "$bin/portolan" -w "$ws" -o json get bp5 e5-777 >/dev/null; done
echo "portolan get bp5 e5-777: $(( ($(date +%s%N) - start) / 20000000 )) ms per call (mean of 20)"
read -r l_s _ < <(secs "$bin/portolan" -w "$ws" -o json get bp5)
echo "portolan get bp5 (10k entities, full load): ${l_s} s"
