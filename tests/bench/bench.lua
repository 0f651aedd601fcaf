-- wrk script for make bench: every request is pre-formatted in init() and
-- request() only returns the next one, so every case costs wrk the same.
--
--   wrk ... -s bench.lua URL -- TOKENS_FILE [tally]
--
-- TOKENS_FILE holds one Authorization header value per line ("-" for no
-- header).  Each thread starts at its own offset and goes round-robin.
-- With "tally", response() counts status codes and done() prints one
-- "status CODE COUNT" line per code (slower: used for the checks only).

local reqs = {}
local n, i = 0, 0
local counter = 0
local threads = {}

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local path = wrk.path
    for line in io.lines(args[1]) do
        local headers = {}
        if line ~= "-" then
            headers["Authorization"] = line
        end
        n = n + 1
        reqs[n] = wrk.format("GET", path, headers)
    end
    if n == 0 then
        reqs[1] = wrk.format("GET", path, {})
        n = 1
    end
    i = ((id or 0) * 7919) % n
    statuses = {}
    if args[2] == "tally" then
        response = function(status, headers, body)
            statuses[status] = (statuses[status] or 0) + 1
        end
    end
end

function request()
    i = i + 1
    if i > n then
        i = 1
    end
    return reqs[i]
end

function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        if s then
            for code, c in pairs(s) do
                total[code] = (total[code] or 0) + c
            end
        end
    end
    for code, c in pairs(total) do
        io.write(string.format("status %d %d\n", code, c))
    end
end
