# shellcheck shell=bash
# Shared helpers for the end-to-end scripts in tests/e2e/ (and tools/bench/serve_bench.sh).
# Source it from a bash script running under `set -euo pipefail`, then call e2e_init:
#
#   source "$(dirname "$0")/lib.sh"
#   e2e_init                       # temp dir + EXIT trap (stops the server, removes the temp dir)
#   ws=$E2E_TMP/ws
#   portolan -w "$ws" apply -f "$E2E_ROOT/blueprints/dora"
#   start_server "$ws" [--tls-cert C --tls-key K]   # sets SERVER_URL, SERVER_PORT, SERVER_PID
#   ...
#   stop_server                    # SIGTERM, asserts exit status 0
#   e2e_finish                     # prints "N passed, M failed" and exits 0 or 1
#
# Environment:
#   PORTOLAN_BUILD_DIR  the CMake build directory (default: <repo>/build)
#   PORTOLAN_BIN        the portolan binary (default: $PORTOLAN_BUILD_DIR/bin/portolan)
#   E2E_KEEP=1          keep the temp dir (its path is printed) instead of removing it
#   E2E_VERBOSE=1       echo every API call's method, path and status to stderr
#
# Results are counted in files, not shell variables, so that assertions made inside a command
# substitution `$(...)` (a subshell) are counted too. Messages go to stderr; only the final
# summary line and what helpers are documented to print go to stdout.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PORTOLAN_BUILD_DIR=${PORTOLAN_BUILD_DIR:-$E2E_ROOT/build}
PORTOLAN_BIN=${PORTOLAN_BIN:-$PORTOLAN_BUILD_DIR/bin/portolan}

E2E_TMP=""          # the per-run temp dir, made by e2e_init
E2E_CACERT=""       # CA certificate curl trusts (set by make_test_ca; empty for plain HTTP)
SERVER_PID=""       # the running `portolan serve`, if any
SERVER_URL=""       # e.g. https://127.0.0.1:40123
SERVER_PORT=""
SERVER_LOG=""       # its stdout+stderr
TOKEN=""            # bearer token used by `api`
E2E_FINISHED=0
_E2E_CLEANUPS=()    # commands run (last first) by the EXIT trap

# ---------------------------------------------------------------------------------------------
# Messages and setup

log() { printf '== %s\n' "$*" >&2; }
# die MSG: a fatal failure (counted once in the summary, also from inside a $(...) subshell).
die() {
  printf 'FATAL: %s\n' "$*" >&2
  if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then echo "fatal: $*" >>"$E2E_TMP/.failed"; fi
  exit 1
}

# require_cmd CMD...: fail unless every command is on PATH.
require_cmd() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null || die "'$c' is not installed"; done
}

# require_portolan: fail unless the portolan binary exists (build it with CMake first).
require_portolan() {
  [ -x "$PORTOLAN_BIN" ] ||
    die "no portolan binary at $PORTOLAN_BIN (build: cmake -S . -B build && cmake --build build --target portolan; or set PORTOLAN_BIN)"
}

# portolan ARGS...: run the portolan binary under test.
portolan() { "$PORTOLAN_BIN" "$@"; }

# e2e_init: make the temp dir (E2E_TMP) and install the EXIT/INT/TERM traps.
e2e_init() {
  E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/portolan-e2e.XXXXXX")
  : >"$E2E_TMP/.passed"
  : >"$E2E_TMP/.failed"
  trap _e2e_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# on_exit CMD...: run CMD (a command and its arguments) when the script exits, before the temp
# dir is removed. Registered commands run last-registered first.
on_exit() { _E2E_CLEANUPS+=("$(printf '%q ' "$@")"); }

_e2e_exit() {
  local rc=$? i
  set +e
  if [ -n "$SERVER_PID" ]; then   # the script died with the server still up
    kill -TERM "$SERVER_PID" 2>/dev/null
    _wait_pid_bounded "$SERVER_PID" 10
    SERVER_PID=""
  fi
  for ((i = ${#_E2E_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_E2E_CLEANUPS[i]}"; done
  if [ "$E2E_FINISHED" = 0 ] && [ -n "$E2E_TMP" ]; then
    # Died before e2e_finish (under set -e): count it as a failure unless one was recorded.
    if [ ! -s "$E2E_TMP/.failed" ]; then
      echo "aborted (exit $rc)" >>"$E2E_TMP/.failed"
    fi
    _e2e_summary || true
    rc=1
  fi
  if [ -n "$E2E_TMP" ]; then
    if [ "${E2E_KEEP:-0}" = 1 ]; then echo "kept $E2E_TMP" >&2; else rm -rf "$E2E_TMP"; fi
  fi
  exit "$rc"
}

_e2e_summary() {
  local p f
  p=$(wc -l <"$E2E_TMP/.passed")
  f=$(wc -l <"$E2E_TMP/.failed")
  if [ "$f" != 0 ]; then
    echo "failed checks:" >&2
    sed 's/^/  - /' "$E2E_TMP/.failed" >&2
  fi
  # The summary line, alone on its line.
  printf '%d passed, %d failed\n' "$p" "$f"
  [ "$f" = 0 ]
}

# e2e_finish: print the summary line; exit 0 when nothing failed, else 1.
e2e_finish() {
  E2E_FINISHED=1
  if _e2e_summary; then exit 0; else exit 1; fi
}

# ---------------------------------------------------------------------------------------------
# Assertions. Each records one pass or one failure and returns 0, so a script goes on and
# reports every failed check; use `|| exit 1` after one when later steps cannot run without it.

pass() { echo "$1" >>"$E2E_TMP/.passed"; echo "ok   - $1" >&2; }
fail() { echo "$1" >>"$E2E_TMP/.failed"; echo "FAIL - $1" >&2; }

# assert_eq NAME EXPECTED ACTUAL
assert_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# assert_ne NAME UNEXPECTED ACTUAL
assert_ne() {
  if [ "$2" != "$3" ]; then pass "$1"; else fail "$1: got '$3'"; fi
}

# assert_contains NAME NEEDLE HAYSTACK
assert_contains() {
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: '$2' not found in: $3"; fi
}

# assert_json NAME JSON JQ_FILTER EXPECTED: `jq -r FILTER` applied to JSON prints EXPECTED.
# (Strings print raw, so compare with: assert_json "..." "$body" '.entity.title' 'Checkout'.)
assert_json() {
  local got
  if ! got=$(printf '%s' "$2" | jq -r "$3" 2>&1); then
    fail "$1: jq '$3' failed on: $(printf '%.400s' "$2") ($got)"
    return 0
  fi
  if [ "$got" == "$4" ]; then pass "$1"; else
    fail "$1: jq '$3' gave '$got', expected '$4' (json: $(printf '%.400s' "$2"))"
  fi
  return 0
}

# assert_cmd NAME CMD...: CMD exits 0.
assert_cmd() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name: '$*' exited $?"; fi
  return 0
}

# ---------------------------------------------------------------------------------------------
# TLS test material

# make_test_ca DIR NAME: a throwaway CA and a server certificate signed by it, in DIR:
#   ca.key ca.pem          the CA (trust ca.pem: curl --cacert, NODE_EXTRA_CA_CERTS)
#   server.key server.pem  for NAME, api.NAME, localhost and 127.0.0.1 (ECDSA P-256)
# Sets E2E_CACERT=DIR/ca.pem so that `api` and `http_call` trust it.
make_test_ca() {
  local dir=$1 name=$2
  mkdir -p "$dir"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 -subj "/CN=Portolan e2e test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
    die "openssl: CA generation failed"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=$name" 2>/dev/null ||
    die "openssl: server key generation failed"
  cat >"$dir/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$name,DNS:api.$name,DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
EOF
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/server.pem" -days 2 -extfile "$dir/server.ext" 2>/dev/null ||
    die "openssl: signing the server certificate failed"
  openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null ||
    die "openssl: the server certificate does not verify against the CA"
  E2E_CACERT=$dir/ca.pem
}

# make_hosts_file FILE NAME...: a copy of /etc/hosts with "127.0.0.1 NAME..." appended, for
# run_with_hosts.
make_hosts_file() {
  local file=$1; shift
  { cat /etc/hosts; printf '127.0.0.1 %s\n' "$*"; } >"$file"
}

# run_with_hosts HOSTSFILE CMD...: run CMD in a private mount namespace where HOSTSFILE is
# bind-mounted over /etc/hosts, so names resolve to loopback for CMD only; the machine's
# /etc/hosts is never modified. As root `unshare -m`; otherwise a user namespace as well.
run_with_hosts() {
  local hosts=$1; shift
  local -a un=(unshare -m)
  [ "$(id -u)" = 0 ] || un=(unshare -r -m)
  # shellcheck disable=SC2016  # $0 and $@ expand in the inner shell
  "${un[@]}" bash -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$@"
}

# ---------------------------------------------------------------------------------------------
# The server

# start_server WS [ARGS...]: start `portolan -w WS serve --listen 127.0.0.1:PORT ARGS...` in the
# background (PORT: $E2E_PORT, default 0 = any free port) and wait up to 20 s for its
# "listening on http(s)://HOST:PORT" line on stderr. `--now T` / `--now=T` among ARGS is a global
# option and is passed before `serve`. Sets SERVER_PID, SERVER_URL, SERVER_PORT, SERVER_LOG. On
# failure prints the server's output and exits.
start_server() {
  local ws=$1; shift
  local -a global=(-w "$ws") serve=()
  while [ $# -gt 0 ]; do
    case $1 in
      --now) global+=("$1" "$2"); shift 2 ;;
      --now=*) global+=("$1"); shift ;;
      *) serve+=("$1"); shift ;;
    esac
  done
  [ -z "$SERVER_PID" ] || die "start_server: a server is already running (pid $SERVER_PID)"
  SERVER_LOG=$(mktemp "$E2E_TMP/server.XXXX.log")
  "$PORTOLAN_BIN" "${global[@]}" serve --listen "127.0.0.1:${E2E_PORT:-0}" "${serve[@]}" \
    >"$SERVER_LOG" 2>&1 </dev/null &
  SERVER_PID=$!
  local deadline=$((SECONDS + 20)) line=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    line=$(grep -m1 -oE 'listening on https?://[^[:space:]]+' "$SERVER_LOG" || true)
    [ -n "$line" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null || _is_zombie "$SERVER_PID"; then
      local rc=0
      wait "$SERVER_PID" || rc=$?
      SERVER_PID=""
      _show_server_log
      die "portolan serve exited with status $rc before listening"
    fi
    sleep 0.05
  done
  if [ -z "$line" ]; then
    _show_server_log
    die "portolan serve did not print 'listening on' within 20 s"
  fi
  SERVER_URL=${line#listening on }
  SERVER_URL=${SERVER_URL%/}
  SERVER_PORT=${SERVER_URL##*:}
  if ! [[ "$SERVER_PORT" =~ ^[1-9][0-9]*$ ]]; then die "cannot read the port from '$line'"; fi
  log "portolan serve (pid $SERVER_PID) listening on $SERVER_URL"
}

# stop_server: SIGTERM the server, wait (at most 15 s, then SIGKILL) and assert it exited 0.
stop_server() {
  [ -n "$SERVER_PID" ] || die "stop_server: no server running"
  local pid=$SERVER_PID rc
  SERVER_PID=""
  kill -TERM "$pid"
  _wait_pid_bounded "$pid" 15
  rc=$_WAIT_RC
  if [ "$rc" = 0 ]; then pass "portolan serve exits 0 on SIGTERM"; else
    _show_server_log
    fail "portolan serve exits 0 on SIGTERM: exit status $rc"
  fi
  return 0
}

# _wait_pid_bounded PID SECONDS: wait for a child of this shell to exit, SIGKILL it after SECONDS;
# sets _WAIT_RC to its exit status. (Not for use inside $(...): a subshell cannot wait for its
# parent's children.) A child that has exited stays a zombie until waited for, so poll for that.
_wait_pid_bounded() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && ! _is_zombie "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null && ! _is_zombie "$pid"; then
    echo "pid $pid still running after $2 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  _WAIT_RC=0
  wait "$pid" 2>/dev/null || _WAIT_RC=$?
}

_is_zombie() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

_show_server_log() {
  [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ] || return 0
  echo "---- portolan serve output ($SERVER_LOG) ----" >&2
  tail -n 60 "$SERVER_LOG" >&2
  echo "---- end ----" >&2
}

# ---------------------------------------------------------------------------------------------
# HTTP

# create_credentials WS [NAME]: `portolan credentials create`; sets CLIENT_ID and CLIENT_SECRET.
create_credentials() {
  local out
  out=$("$PORTOLAN_BIN" -w "$1" credentials create --name "${2:-ci}") ||
    die "portolan credentials create failed"
  CLIENT_ID=$(printf '%s' "$out" | jq -er .clientId) || die "no clientId in: $out"
  CLIENT_SECRET=$(printf '%s' "$out" | jq -er .clientSecret) || die "no clientSecret in: $out"
}

# http_call METHOD URL [BODY] [CURL_ARGS...]: one request; prints "STATUS" on the first line, then
# the body. Trusts E2E_CACERT when set. BODY is sent as JSON (pass "" for none).
http_call() {
  local method=$1 url=$2 body=${3-}
  shift 3 2>/dev/null || shift $#
  local -a args=(-sS -X "$method" -o "$E2E_TMP/.body" -w '%{http_code}' --max-time 30)
  [ -n "$E2E_CACERT" ] && args+=(--cacert "$E2E_CACERT")
  if [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary @-)
  fi
  local status
  status=$(printf '%s' "$body" | curl "${args[@]}" "$@" "$url") || status=000
  [ "${E2E_VERBOSE:-0}" = 1 ] && echo "   $method $url -> $status" >&2
  echo "$status"
  cat "$E2E_TMP/.body" 2>/dev/null || true
  rm -f "$E2E_TMP/.body"
}

# get_token [CLIENT_ID CLIENT_SECRET]: POST /v1/auth/access_token; prints the access token.
# Defaults to CLIENT_ID/CLIENT_SECRET. Usage: TOKEN=$(get_token)
get_token() {
  local id=${1:-$CLIENT_ID} secret=${2:-$CLIENT_SECRET} out status body
  out=$(http_call POST "$SERVER_URL/v1/auth/access_token" \
    "$(jq -nc --arg i "$id" --arg s "$secret" '{clientId: $i, clientSecret: $s}')")
  status=${out%%$'\n'*}
  body=${out#*$'\n'}
  [ "$status" = 200 ] || die "POST /v1/auth/access_token: status $status: $body"
  printf '%s' "$body" | jq -er 'select(.ok == true and .tokenType == "Bearer") | .accessToken' ||
    die "POST /v1/auth/access_token: unexpected answer: $body"
}

# api METHOD PATH EXPECTED [BODY]: request SERVER_URL/PATH with "Authorization: Bearer $TOKEN";
# print the response body on stdout. EXPECTED is a status or a |-separated list ("200|201").
# A status outside EXPECTED records a failure and returns 1 (fatal under set -e).
api() {
  local method=$1 path=$2 expected=$3 body=${4-} out status
  out=$(http_call "$method" "$SERVER_URL$path" "$body" -H "Authorization: Bearer $TOKEN")
  status=${out%%$'\n'*}
  if [[ "$out" == *$'\n'* ]]; then out=${out#*$'\n'}; else out=""; fi
  if [[ "|$expected|" == *"|$status|"* ]]; then
    pass "$method $path -> $status"
    printf '%s\n' "$out"
  else
    fail "$method $path: expected status $expected, got $status: $(printf '%.600s' "$out")"
    return 1
  fi
}
