#!/usr/bin/env bash
# End to end: crash safety of `portolan serve`. DESIGN promises that "a 202 means the event is
# in the workspace's queue and will be processed after a crash" and that "every acknowledged
# write survives". This script proves it with SIGKILL under load:
#
#   setup   a workspace with the DORA pack, a service `svc`, credentials, and a custom webhook
#           `crash` whose mapping turns {"id", "at"} into a Production/Success `deployment`
#           related to svc;
#   rounds  (CRASH_ROUNDS, default 6) each:
#             - client loops (CRASH_CLIENTS, default 2, in parallel so that writes share group
#               commits) send numbered requests as fast as they can, alternating a webhook
#               delivery  POST /ingest/KEY {"id": "w-<round>-<n>", ...}
#               and an API upsert  POST /v1/blueprints/deployment/entities?upsert=true
#               {"identifier": "a-<round>-<n>", ...}, and record the ids the server
#               acknowledged (202 for the webhook, 201 for the API);
#             - after a random delay (0.2-1.5 s) the server gets SIGKILL; the loops stop;
#             - the server must have died of the SIGKILL (not earlier), acknowledged something,
#               and answered nothing but acknowledgements before the kill;
#             - the server restarts on the same workspace; once the intake queue has drained,
#               every acknowledged id of every round so far must be a `deployment` entity, and
#               the `total_deployments` of svc and of its team must equal the number of
#               deployments related to svc.
#           A request cut by the kill is unacknowledged: its id may or may not exist afterwards.
#   finally a clean SIGTERM stop (exit 0); `portolan recompute` must change nothing (the services
#           and teams printed by `portolan get` are byte-identical before and after); the servers
#           logged no warning or error.
#
# With sqlite3 installed, each round also logs how many webhook events the crash left in the
# intake queue (read from a copy of the database), to show that the queue's replay at start is
# what some acknowledged events survive by.
#
# Environment (besides lib.sh's PORTOLAN_BUILD_DIR, PORTOLAN_BIN, E2E_KEEP, E2E_VERBOSE):
#   CRASH_ROUNDS   number of kill/restart rounds (default 6)
#   CRASH_CLIENTS  client loops running in parallel (default 2; 1 = strictly alternating)
#   CRASH_SEED     seed of the random kill delays (default: random; printed, to replay a run)
#
# Needs curl, jq and a built portolan. Only 127.0.0.1 is used. Usage: tests/e2e/crash.sh
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-6}
CLIENTS=${CRASH_CLIENTS:-2}
SEED=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
AT=2026-11-20T10:00:00Z         # the deployments' createdAt (webhook: .body.at)
DRAIN_TIMEOUT=10                # seconds to wait for the intake queue after a restart
REQUEST_TIMEOUT=5               # curl --max-time of one client request
BATCH=250                       # webhook+API request pairs per curl process

[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "CRASH_ROUNDS must be a positive integer" >&2; exit 2; }
[[ "$CLIENTS" =~ ^[1-9][0-9]*$ ]] || { echo "CRASH_CLIENTS must be a positive integer" >&2; exit 2; }
[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "CRASH_SEED must be a non-negative integer" >&2; exit 2; }
RANDOM=$SEED                    # the kill delays below are reproducible from the seed

e2e_init
require_cmd curl jq sort comm
require_portolan
log "crash test: $ROUNDS rounds, $CLIENTS client loops, CRASH_SEED=$SEED"

ws=$E2E_TMP/ws
state=$E2E_TMP/crash            # acknowledged ids and client output, per round and overall
mkdir -p "$state"
: >"$state/webhook.acked"       # every acknowledged webhook id so far (all rounds)
: >"$state/api.acked"           # every acknowledged API id so far (all rounds)
SERVER_LOGS=()                  # every server log, scanned for intake failures at the end

# ---------------------------------------------------------------------------------------------
# 1. The workspace: DORA pack, service svc, credentials, the `crash` webhook.
portolan -w "$ws" apply -f "$E2E_ROOT/blueprints/dora" >/dev/null
create_credentials "$ws" crash                   # CLIENT_ID, CLIENT_SECRET
start_server "$ws" --log-level warn
SERVER_LOGS+=("$SERVER_LOG")
# The token is signed with the workspace's key, so it stays valid across restarts (1 hour).
TOKEN=$(get_token "$CLIENT_ID" "$CLIENT_SECRET")

# svc belongs to a team, so that the team's aggregations (over deployment -> service -> team)
# move too, and the recompute check below has a team to compare.
api POST '/v1/blueprints/_team/entities?upsert=true' '200|201' \
  '{"identifier": "crashteam", "title": "Crash team"}' >/dev/null
api POST '/v1/blueprints/service/entities?upsert=true' '200|201' \
  '{"identifier": "svc", "title": "svc", "relations": {"team": "crashteam"}}' >/dev/null

webhook=$(api POST /v1/webhooks '200|201' "$(jq -nc '{
  identifier: "crash",
  mappings: [{
    blueprint: "deployment",
    entity: {
      identifier: ".body.id",
      properties: {environment: "\"Production\"", deploymentStatus: "\"Success\"",
                   createdAt: ".body.at"},
      relations: {service: "\"svc\""}
    }
  }]
}')")
# The intake URL is /ingest/KEY (the answer's url holds the current port, which changes at each
# restart, so keep only the key).
KEY=$(jq -r '.integration.webhookKey // (.integration.url // "" | sub(".*/ingest/"; ""))' \
  <<<"$webhook")
assert_ne "the webhook has an intake key" "" "$KEY"
[ -n "$KEY" ] || e2e_finish

# ---------------------------------------------------------------------------------------------
# Client loops

CLIENT_PIDS=()                  # the running client loops

# client_loop ROUND C DIR: the C-th of CLIENTS loops (0-based) of round ROUND. It numbers its
# requests n = C+1, C+1+CLIENTS, ... (so the ids of all loops are distinct and interleave) and
# alternates a webhook delivery w-ROUND-n and an API upsert a-ROUND-n, until the server stops
# answering or DIR/stop exists.
#
# One curl process sends a batch of BATCH such pairs, one request after the other, from a config
# file: the connection is kept alive, so the loop runs at the server's pace rather than at curl's
# start-up cost (50-100 ms a process). Each transfer has --max-time and no retry; --fail-early
# stops curl at the first transfer that gets no answer (the kill: connection reset or refused),
# and the loop ends with it, so that no request can reach the next server. For each transfer
# curl writes "ID STATUS" to DIR/client.C.out, on its stderr (unbuffered: the line is there as
# soon as the answer is; status 000 = no answer). curl's exit status per batch goes to
# DIR/client.C.rc (diagnostics: 7 refused, 52 empty reply, 56 reset, 28 timed out).
client_loop() {
  local round=$1 c=$2 dir=$3 cfg=$3/client.$2.cfg first rc
  : >"$dir/client.$c.out"
  for ((first = 0; ; first += BATCH)); do
    [ ! -e "$dir/stop" ] || return 0
    awk -v round="$round" -v c="$c" -v k="$CLIENTS" -v first="$first" -v count="$BATCH" \
      -v url="$SERVER_URL" -v key="$KEY" -v token="$TOKEN" -v at="$AT" -v tmo="$REQUEST_TIMEOUT" '
      # The options every transfer repeats (a "next" section starts with none).
      function common(id) {
        printf "header = \"Content-Type: application/json\"\noutput = \"/dev/null\"\n"
        printf "max-time = %d\nwrite-out = \"%%{stderr}%s %%{http_code}\\n\"\n", tmo, id
      }
      BEGIN {
        q = "\\\""                                   # a quote inside a config string: \"
        for (j = first; j < first + count; j++) {
          n = c + 1 + j * k
          if (j > first) print "next"
          id = "w-" round "-" n
          printf "url = \"%s/ingest/%s\"\n", url, key
          printf "data-binary = \"{%sid%s:%s%s%s,%sat%s:%s%s%s}\"\n", q, q, q, id, q, q, q, q, at, q
          common(id)
          print "next"
          id = "a-" round "-" n
          printf "url = \"%s/v1/blueprints/deployment/entities?upsert=true\"\n", url
          printf "header = \"Authorization: Bearer %s\"\n", token
          printf "data-binary = \"{%sidentifier%s:%s%s%s,%sproperties%s:{", q, q, q, id, q, q, q
          printf "%senvironment%s:%sProduction%s,", q, q, q, q
          printf "%sdeploymentStatus%s:%sSuccess%s,", q, q, q, q
          printf "%screatedAt%s:%s%s%s},", q, q, q, at, q
          printf "%srelations%s:{%sservice%s:%ssvc%s}}\"\n", q, q, q, q, q, q
          common(id)
        }
      }' >"$cfg"
    # -s: no progress meter and no error messages (only the write-out lines reach stderr).
    rc=0
    curl -s --fail-early --noproxy '*' -K "$cfg" >/dev/null 2>>"$dir/client.$c.out" || rc=$?
    echo "$rc" >>"$dir/client.$c.rc"
    [ "$rc" = 0 ] || return 0
  done
}

# sort_client_output DIR: split the loops' output into DIR/webhook.acked (ids answered 202),
# DIR/api.acked (ids answered 201) and DIR/other ("ID STATUS": any answer other than the
# acknowledgement; 000, no answer, is neither).
sort_client_output() {
  local dir=$1
  cat "$dir"/client.*.out >"$dir/all.out"
  awk '$1 ~ /^w-/ && $2 == "202" { print $1 }' "$dir/all.out" >"$dir/webhook.acked"
  awk '$1 ~ /^a-/ && $2 == "201" { print $1 }' "$dir/all.out" >"$dir/api.acked"
  awk '!($1 ~ /^w-/ && $2 == "202") && !($1 ~ /^a-/ && $2 == "201") && $2 != "000"' \
    "$dir/all.out" >"$dir/other"
}

# stop_clients DIR: tell the loops to stop (DIR/stop) and wait for them (their curl stops at
# the first request without an answer, so right after the kill), 10 s at most, then SIGKILL
# them. Also run by the EXIT trap (for the current round), so that no loop outlives the script.
CLIENT_DIR=""
stop_clients() {
  local dir=${1:-$CLIENT_DIR} pid deadline=$((SECONDS + 10))
  if [ -n "$dir" ] && [ -d "$dir" ]; then touch "$dir/stop"; fi
  for pid in "${CLIENT_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ! _is_zombie "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLIENT_PIDS=()
}
on_exit stop_clients

# ---------------------------------------------------------------------------------------------
# Checking the catalog through the API

# list_deployments FILE: write "IDENTIFIER SERVICE" for every deployment entity to FILE, sorted
# by identifier (one list call). Returns 1 when the call fails.
list_deployments() {
  local out status
  out=$(http_call GET "$SERVER_URL/v1/blueprints/deployment/entities" "" \
    -H "Authorization: Bearer $TOKEN")
  status=${out%%$'\n'*}
  [ "$status" = 200 ] || return 1
  printf '%s' "${out#*$'\n'}" |
    jq -r '.entities[] | "\(.identifier) \(.relations.service // "-")"' | sort >"$1"
}

# missing_ids ACKED LIST: the ids of file ACKED (one a line) that are not identifiers in LIST
# (list_deployments' output).
missing_ids() {
  comm -23 <(sort -u "$1") <(cut -d' ' -f1 "$2" | sort -u)
}

# total_deployments BLUEPRINT ID: that entity's total_deployments as the API answers it (empty
# when the call fails).
total_deployments() {
  local out
  out=$(http_call GET "$SERVER_URL/v1/blueprints/$1/entities/$2" "" \
    -H "Authorization: Bearer $TOKEN")
  [ "${out%%$'\n'*}" = 200 ] || return 0
  printf '%s' "${out#*$'\n'}" | jq -r '.entity.properties.total_deployments // 0'
}

# queued_at_crash ROUND: diagnostics, when sqlite3 is installed: the webhook ids that the
# crash left in the intake queue (the workspace's `intake` documents), read from a copy of the
# database files, so that the workspace itself is untouched until the server reopens it. Writes
# them to $state/queued.ROUND and prints how many there are and how many of them had been
# acknowledged: those survive only through the queue's replay at the next start.
queued_at_crash() {
  local r=$1 copy=$state/copy.$1 f
  : >"$state/queued.$r"
  command -v sqlite3 >/dev/null || { echo "? (no sqlite3)"; return 0; }
  [ -f "$ws/portolan.db" ] || { echo "? (no $ws/portolan.db)"; return 0; }
  mkdir -p "$copy"
  for f in "$ws"/portolan.db*; do cp "$f" "$copy/"; done
  sqlite3 "$copy/portolan.db" "SELECT doc FROM documents WHERE kind = 'intake'" 2>/dev/null |
    jq -r '.request.body.id // empty' | sort >"$state/queued.$r" || true
  rm -rf "$copy"
  echo "$(wc -l <"$state/queued.$r") ($(comm -12 "$state/queued.$r" <(sort "$state/round.$r/webhook.acked") | wc -l) acknowledged)"
}

# check_round ROUND: after a restart, wait for the intake queue to drain, then check that every
# acknowledged id (all rounds so far) is a deployment and that svc's aggregation counts them.
check_round() {
  local r=$1 list=$state/list.$1 deadline=$((SECONDS + DRAIN_TIMEOUT)) missing t1 t2 team related
  local polls=0 first_missing=""
  # Drained (as far as acknowledged events go) when every acknowledged webhook id exists.
  while :; do
    if list_deployments "$list"; then
      missing=$(missing_ids "$state/webhook.acked" "$list" | wc -l)
      first_missing=${first_missing:-$missing}
      polls=$((polls + 1))
      [ "$missing" != 0 ] || break
    fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.1
  done
  log "round $r: at the first look after the restart, ${first_missing:-?} acknowledged webhook events were not yet deployments; $polls list calls"
  [ -f "$list" ] || : >"$list"
  missing=$(missing_ids "$state/webhook.acked" "$list")
  assert_eq "round $r: every acknowledged webhook event (202, all rounds: $(wc -l <"$state/webhook.acked")) is a deployment within ${DRAIN_TIMEOUT}s of the restart" \
    "" "$(printf '%s' "$missing" | head -n 20 | tr '\n' ' ')"
  missing=$(missing_ids "$state/api.acked" "$list")
  assert_eq "round $r: every acknowledged API upsert (201, all rounds: $(wc -l <"$state/api.acked")) is a deployment after the restart" \
    "" "$(printf '%s' "$missing" | head -n 20 | tr '\n' ' ')"

  # svc's and crashteam's total_deployments against the deployments related to svc. Events
  # committed to the queue but cut before their 202 may still be processed meanwhile, so read
  # svc's total, the list, the team's total, svc's total again, and retry until svc's two totals
  # agree (what was read between them is then of the same state: the count only grows).
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    t1=$(total_deployments service svc)
    list_deployments "$list" || true
    team=$(total_deployments _team crashteam)
    t2=$(total_deployments service svc)
    [ "$t1" != "$t2" ] || break
    sleep 0.2
  done
  related=$(awk '$2 == "svc"' "$list" | wc -l)
  assert_eq "round $r: svc's total_deployments equals the deployments related to svc" \
    "$related" "$t2"
  assert_eq "round $r: crashteam's total_deployments equals the deployments related to svc" \
    "$related" "$team"
  # Every deployment here comes from this test, for svc.
  assert_eq "round $r: every deployment is related to svc" "$(wc -l <"$list")" "$related"
}

# ---------------------------------------------------------------------------------------------
# 2-3. Rounds: load, SIGKILL, restart, check.
per_round=()
for ((r = 1; r <= ROUNDS; r++)); do
  dir=$state/round.$r
  mkdir -p "$dir"
  CLIENT_DIR=$dir
  delay_ms=$((200 + RANDOM % 1301))

  for ((c = 0; c < CLIENTS; c++)); do
    client_loop "$r" "$c" "$dir" &
    CLIENT_PIDS+=($!)
  done
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  # Each round must kill a server that has acknowledged something: when nothing is
  # acknowledged yet (a very slow machine), give it up to 5 s more.
  deadline=$((SECONDS + 5))
  while ! cat "$dir"/client.*.out 2>/dev/null | grep -qE '^(w-[0-9-]+ 202|a-[0-9-]+ 201)$' &&
    [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
  done

  # The crash: SIGKILL, no chance to flush or finish anything.
  pid=$SERVER_PID
  SERVER_PID=""
  kill -KILL "$pid"
  rc=0
  { wait "$pid"; } 2>/dev/null || rc=$?   # (the braces silence bash's "Killed" job notice)
  stop_clients "$dir"
  # 137 = killed by SIGKILL: the server was alive under the load until the kill.
  assert_eq "round $r: the server was up under load until SIGKILL (exit status)" 137 "$rc"

  sort_client_output "$dir"
  w=$(wc -l <"$dir/webhook.acked")
  a=$(wc -l <"$dir/api.acked")
  cat "$dir/webhook.acked" >>"$state/webhook.acked"
  cat "$dir/api.acked" >>"$state/api.acked"
  log "round $r: killed after ${delay_ms} ms; acknowledged $w webhook deliveries (202) + $a API upserts (201)"
  per_round+=("round $r: ${delay_ms} ms, $w webhook + $a API = $((w + a)) acknowledged")
  assert_ne "round $r: some requests were acknowledged before the kill" 0 "$((w + a))"
  other=$(head -n 5 "$dir/other" | tr '\n' ' ')
  assert_eq "round $r: no request had an answer other than its acknowledgement" "" "$other"

  log "round $r: webhook events in the queue at the crash: $(queued_at_crash "$r")"

  # Restart on the same workspace (start_server fails the test if it does not come up).
  start_server "$ws" --log-level warn
  SERVER_LOGS+=("$SERVER_LOG")
  check_round "$r"
done

# ---------------------------------------------------------------------------------------------
# 3 (end). A clean stop, then `portolan recompute` must change nothing. The CLI calls share one
# fixed clock, so that time-dependent values cannot move between them.
stop_server
now=$(date -u +%Y-%m-%dT%H:%M:00Z)
portolan -w "$ws" --now "$now" -q -o json get service >"$state/service.before"
portolan -w "$ws" --now "$now" -q -o json get _team >"$state/team.before"
assert_cmd "portolan recompute exits 0" portolan -w "$ws" --now "$now" -q recompute
portolan -w "$ws" --now "$now" -q -o json get service >"$state/service.after"
portolan -w "$ws" --now "$now" -q -o json get _team >"$state/team.after"
assert_cmd "recompute changes no service (get service -o json byte-identical)" \
  cmp "$state/service.before" "$state/service.after"
assert_cmd "recompute changes no team (get _team -o json byte-identical)" \
  cmp "$state/team.before" "$state/team.after"
# ... and the workspace read by the CLI agrees: svc's and its team's counts are the number of
# deployments related to svc.
related=$(portolan -w "$ws" --now "$now" -q -o json get deployment |
  jq '[.[] | select(.relations.service == "svc")] | length')
assert_json "svc's total_deployments in the workspace equals the deployments related to svc" \
  "$(cat "$state/service.after")" '.[] | select(.identifier == "svc") | .properties.total_deployments' \
  "$related"
assert_json "crashteam's total_deployments in the workspace equals the deployments of svc" \
  "$(cat "$state/team.after")" '.[] | select(.identifier == "crashteam") | .properties.total_deployments' \
  "$related"

# The servers ran at --log-level warn: any spdlog line is a warning or an error (an intake event
# moved to intake_failed, a failed group commit, a queue error...), and there must be none.
warnings=$(cat "${SERVER_LOGS[@]}" | grep -E ' (warning|error|critical) |^portolan: ' |
  head -n 5 || true)
assert_eq "no warning or error in the server logs" "" "$warnings"

log "acknowledged per round (CRASH_SEED=$SEED):"
printf '   %s\n' "${per_round[@]}" >&2
e2e_finish
