-- wrk script: POST /saml/acs, each request with the next pre-minted SAMLResponse of this
-- thread's file (one urlencoded body per line; a distinct assertion each). When a thread runs
-- out, it starts over: those replays are refused (403) and wrk counts them as non-2xx/3xx.
-- BENCH_ACS_PATH names another SP's ACS (the Shibboleth SP peer); default /saml/acs.
local files, counter = {}, 0
local path = os.getenv("BENCH_ACS_PATH") or "/saml/acs"
for f in os.getenv("BENCH_ACS_FILES"):gmatch("[^,]+") do files[#files + 1] = f end

function setup(thread)
  counter = counter + 1
  thread:set("file", files[counter])
end

local bodies, i = {}, 0

function init(args)
  for line in io.lines(file) do bodies[#bodies + 1] = line end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  i = i + 1
  if i > #bodies then i = 1 end
  return wrk.format(nil, path, nil, bodies[i])
end
