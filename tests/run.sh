#!/bin/sh
# Runs every test: the cmocka unit programs in $2, the fuzz corpus replays in $3 (one test per
# fuzz target: every file of tests/fuzz/corpus/<target>/ once, under ASan + UBSan), then the pytest
# suites (end-to-end against the real programs in $1, the mock IdP's own tests, and the browser
# tests in headless Chromium; skipped with RUN_E2E=0). Ends with one line: "N passed, N failed".
bindir=${1:-bin}
unitdir=${2:-build/unit}
fuzzdir=${3:-}
PYTHON=${PYTHON:-/usr/bin/python3}
top=$(cd "$(dirname "$0")/.." && pwd)
art="$top/test-artifacts"
mkdir -p "$art"
passed=0
failed=0

for t in "$unitdir"/test_*; do
    [ -x "$t" ] || continue
    out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$t" 2>&1)
    rc=$?
    echo "$out"
    p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); fi
done

if [ -n "$fuzzdir" ]; then
    for c in "$top"/tests/fuzz/corpus/*/; do
        t=$(basename "$c")
        case "$fuzzdir" in
        /*) r="$fuzzdir/replay_$t" ;;
        *) r="$PWD/$fuzzdir/replay_$t" ;;
        esac
        if [ ! -x "$r" ]; then
            echo "fuzz replay $t: FAILED ($r is missing)"
            failed=$((failed + 1))
            continue
        fi
        if out=$(cd "$top" && "$r" "$c" 2>&1); then
            echo "fuzz replay $t: $(echo "$out" | tail -n 1) ok"
            passed=$((passed + 1))
        else
            echo "$out" | tail -n 60
            echo "fuzz replay $t: FAILED"
            failed=$((failed + 1))
        fi
    done
fi

suites=""
for d in tests/e2e tests/mockidp tests/interop tests/browser; do
    [ "${RUN_E2E:-1}" = 0 ] && break
    if ls "$top/$d"/test_*.py >/dev/null 2>&1; then suites="$suites $top/$d"; fi
done
if [ -n "$suites" ]; then
    GATEHOUSE_BIN_DIR="$top/$bindir" GATEHOUSE_TOP="$top" "$PYTHON" -m pytest -q -p no:cacheprovider \
        --junitxml="$art/pytest.xml" $suites
    rc=$?
    counts=$("$PYTHON" - "$art/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 1"); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
)
    set -- $counts
    passed=$((passed + $1))
    failed=$((failed + $2))
    if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then failed=$((failed + 1)); fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
