-- wrk script for tests/bench/admin_api.sh: MODE=list (GET the account's
-- integrations) or MODE=create (POST a fresh name each time).  The
-- identity header comes from a trusted peer (pitctl serve --trusted-proxy
-- 127.0.0.1); done() prints "p99_ms N" and the status counts.
local mode = os.getenv("MODE") or "list"
local acct = os.getenv("ACCT") or "bench"
local counter = 0
local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
    -- a fresh name space per run: runs follow each other in one Redis
    run = os.time()
    math.randomseed(run * 1000 + tid)
end

function request()
    local headers = { ["X-Remote-User"] = "bench" }
    local path = "/api/v1/accounts/" .. acct .. "/integrations"
    if mode == "create" then
        counter = counter + 1
        headers["Content-Type"] = "application/json"
        local body = string.format(
            '{"name":"bench %d-%d-%d-%d","scopes":["contacts.readonly"]}',
            run, tid, counter, math.random(1, 1000000000))
        return wrk.format("POST", path, headers, body)
    end
    return wrk.format("GET", path, headers)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
    local all = {}
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for k, v in pairs(s) do all[k] = (all[k] or 0) + v end
    end
    for k, v in pairs(all) do io.write(string.format("status %d %d\n", k, v)) end
end
