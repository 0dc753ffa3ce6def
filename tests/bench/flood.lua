-- wrk script: POST /saml/acs with the one urlencoded body in BENCH_FLOOD_FILE, again and again
-- (a tampered response: every post is refused as bad_signature after full validation).
local f = assert(io.open(os.getenv("BENCH_FLOOD_FILE"), "rb"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = f:read("*a")
f:close()
