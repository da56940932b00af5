-- wrk script for tools/bench/serve_bench.sh: single-entity upserts of `deployment` entities
-- (blueprints/dora/deployment.json), each with a new identifier, all related to one service, so
-- that every request moves that service's and its team's DORA aggregations (total_deployments,
-- deployment_frequency: successful Production deployments).
--
--   wrk -t2 -c64 -d10s -H 'Authorization: Bearer TOKEN' -s upsert_deployment.lua URL \
--       -- RUN_PREFIX SERVICE CREATED_AT
--
-- Identifiers are RUN_PREFIX-<thread>-<counter>: unique across threads and across runs (the
-- caller passes a fresh RUN_PREFIX). wrk runs each thread in its own Lua state: setup() runs
-- in the main state and hands each thread its number.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

local prefix, service, created_at
local counter = 0

function init(args)
  prefix = args[1] or "bench"
  service = args[2] or "checkout-api"
  created_at = args[3] or "2026-10-30T12:00:00Z"
  wrk.method = "POST"
  wrk.path = "/v1/blueprints/deployment/entities?upsert=true"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", prefix, thread_id, counter)
  local body = string.format(
    '{"identifier":"%s","title":"Bench deployment %s","properties":{"environment":"Production",' ..
    '"deploymentStatus":"Success","createdAt":"%s"},"relations":{"service":"%s"}}',
    id, id, created_at, service)
  return wrk.format(nil, nil, nil, body)
end
