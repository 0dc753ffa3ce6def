#!/usr/bin/python3
"""make mutate: breaks each security check of tests/mutate/mutations.py, one at a time, in a
scratch copy of the tree, rebuilds, runs only the tests named for it, and reports whether they
caught the mutation. Exits 0 only when every mutation was caught; 1 when one survived, when a
mutation's text no longer matches its file exactly once (a stale table), when a mutation does
not build, or when its tests could not run; 2 when the unmutated tree fails its own tests.

    tests/mutate/run.py [--only ID,ID...] [--list] [--check] [--no-baseline] [--keep]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from mutations import MUTATIONS  # noqa: E402

# Not copied: what the scratch build makes itself, or the mutated runs never use.
SKIP = {".git", "build-asan", "build-fuzz", "test-artifacts", "node_modules", "var",
        "__pycache__", ".pytest_cache"}
# Seconds the named tests of one mutation may take before they count as hung (caught).
TEST_TIMEOUT = int(os.environ.get("MUTATE_TEST_TIMEOUT", "900"))


def say(*a):
    print(*a, flush=True)


def edits(m):
    """(file, find, replace) of a mutation: its own, then those of `also` (one check kept in
    two places is broken in both)."""
    return [(m.file, m.find, m.replace)] + [tuple(e) for e in m.also]


def apply(root, m):
    """Applies m's edits under root; returns {path: original text} for restore()."""
    originals = {}
    for file, find, replace in edits(m):
        path = os.path.join(root, file)
        if path not in originals:
            with open(path, encoding="utf-8") as f:
                originals[path] = f.read()
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(find, replace, 1))
    return originals


def restore(originals):
    # Written anew (a fresh mtime): the next build compiles the original again, which ccache
    # answers from the baseline build.
    for path, text in originals.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def check_table(muts):
    """Problems of the table itself: ids, files, and text that must occur exactly once."""
    problems = {}
    seen = set()
    for m in muts:
        errs = []
        if m.id in seen:
            errs.append("duplicate id")
        seen.add(m.id)
        for file, find, replace in edits(m):
            path = os.path.join(TOP, file)
            if not os.path.isfile(path):
                errs.append(f"no file {file}")
            else:
                with open(path, encoding="utf-8") as f:
                    n = f.read().count(find)
                if n != 1:
                    errs.append(f"stale: the text to find occurs {n} times in {file}")
            if find == replace:
                errs.append("the replacement changes nothing")
        if not m.tests:
            errs.append("no tests named")
        if errs:
            problems[m.id] = "; ".join(errs)
    return problems


def unknown_tests(muts):
    """Named tests that do not exist: unit programs without a source, pytest node IDs that
    pytest does not collect."""
    missing = {}
    nodes = set()
    for m in muts:
        units, ns = split_tests(m.tests)
        for u in units:
            if not os.path.isfile(os.path.join(TOP, "tests", "unit", u + ".c")):
                missing.setdefault(m.id, []).append("unit:" + u)
        nodes.update(ns)
    files = sorted({n.split("::")[0] for n in nodes})
    absent = [f for f in files if not os.path.isfile(os.path.join(TOP, f))]
    files = [f for f in files if f not in absent]
    collected = set()
    if files:
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "--collect-only", *files], cwd=TOP, capture_output=True, text=True)
        collected = {l.strip() for l in p.stdout.splitlines() if "::" in l}
    for m in muts:
        for n in split_tests(m.tests)[1]:
            # A parametrised test may be named whole or by one of its cases.
            if n not in collected and not any(c.startswith(n + "[") for c in collected):
                missing.setdefault(m.id, []).append(n)
    return missing


def copy_tree(dst):
    def ignore(d, names):
        return [n for n in names if n in SKIP or n.endswith(".pyc")]
    shutil.copytree(TOP, dst, symlinks=True, ignore=ignore, dirs_exist_ok=True)


def build_env(scratch):
    env = dict(os.environ)
    if "CC" not in env and shutil.which("ccache"):
        env["CC"] = "ccache gcc"
    # ccache hits across directories: the original of a restored file is compiled once.
    env["CCACHE_BASEDIR"] = scratch
    env["CCACHE_NOHASHDIR"] = "1"
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    return env


def make(scratch, env, targets):
    jobs = os.environ.get("MUTATE_JOBS", "2")
    p = subprocess.run(["make", "--no-print-directory", f"-j{jobs}", *targets], cwd=scratch,
                       env=env, capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def split_tests(tests):
    units = [t[len("unit:"):] for t in tests if t.startswith("unit:")]
    nodes = [t for t in tests if not t.startswith("unit:")]
    return units, nodes


def build_targets(tests):
    units, _ = split_tests(tests)
    return ["all"] + [f"build/unit/{u}" for u in units]


def run_tests(scratch, env, tests, stop_first):
    """Runs the unit programs then the pytest node IDs. Returns (state, detail): state is
    'pass', 'fail' (a test failed), 'timeout' or 'error' (the tests could not run)."""
    units, nodes = split_tests(tests)
    deadline = time.monotonic() + TEST_TIMEOUT
    failed = []
    for u in units:
        prog = os.path.join(scratch, "build", "unit", u)
        try:
            p = subprocess.run([prog], cwd=scratch, env=env, capture_output=True, text=True,
                               timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return "timeout", f"unit:{u} hung"
        except OSError as e:
            return "error", f"unit:{u}: {e}"
        if p.returncode != 0:
            failed.append(f"unit:{u}")
            if stop_first:
                return "fail", failed[0]
    if nodes:
        tenv = dict(env, GATEHOUSE_TOP=scratch, GATEHOUSE_BIN_DIR=os.path.join(scratch, "bin"))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
               "--no-header"] + (["-x"] if stop_first else []) + nodes
        # Its own process group: on a hang, pytest and the servers it started go together.
        p = subprocess.Popen(cmd, cwd=scratch, env=tenv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return "timeout", "the tests hung"
        except BaseException:  # stopped (SIGTERM, ^C): not without the servers it started
            os.killpg(p.pid, signal.SIGKILL)
            raise
        if p.returncode == 1:
            failed += re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M) or ["pytest"]
        elif p.returncode != 0:
            tail = "\n".join(out.strip().splitlines()[-15:])
            return "error", f"pytest exited {p.returncode}:\n{tail}"
    if failed:
        return "fail", ", ".join(failed)
    return "pass", ""


def build_only(scratch, env, muts, problems):
    """Compiles each mutation's own object file (a header: the whole build)."""
    broken = list(problems)
    for m in muts:
        files = [e[0] for e in edits(m)]
        targets = (["build/" + f[:-2] + ".o" for f in files]
                   if all(f.endswith(".c") for f in files) else ["all"])
        originals = apply(scratch, m)
        try:
            ok, out = make(scratch, env, targets)
        finally:
            restore(originals)
        if not ok:
            errs = [l for l in out.splitlines() if "error" in l]
            say(f"mutate: {m.id}: does not build: {(errs or ['?'])[0]}")
            broken.append(m.id)
    say(f"mutate: {len(muts)} mutations built, {len(broken)} stale or broken")
    return 1 if broken else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=os.environ.get("MUTATE_ONLY", ""),
                    help="comma-separated mutation ids")
    ap.add_argument("--list", action="store_true", help="print the table and exit")
    ap.add_argument("--check", action="store_true",
                    help="only check that every mutation still matches its file")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip running the named tests on the unmutated tree first")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copy")
    ap.add_argument("--build-only", action="store_true",
                    help="only check that each mutation compiles (its object file), no tests")
    args = ap.parse_args()
    # Stopped with SIGTERM: the finally clauses still restore and remove the scratch copy.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    muts = list(MUTATIONS)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        known = {m.id for m in muts}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            say("mutate: unknown mutation id(s): " + ", ".join(unknown))
            return 1
        muts = [m for m in muts if m.id in wanted]
    if args.list:
        for m in muts:
            say(f"{m.id:<28} {m.file:<26} {m.breaks}")
            for t in m.tests:
                say(f"{'':<28}   {t}")
        return 0

    problems = check_table(muts)
    for mid, names in unknown_tests(muts).items():
        why = "no such test: " + ", ".join(names)
        problems[mid] = problems[mid] + "; " + why if mid in problems else why
    for mid, why in problems.items():
        say(f"mutate: {mid}: {why}")
    if args.check:
        say(f"mutate: {len(muts)} mutations, {len(problems)} with problems")
        return 1 if problems else 0
    runnable = [m for m in muts if m.id not in problems]

    scratch = tempfile.mkdtemp(prefix="gatehouse-mutate-")
    t0 = time.monotonic()
    try:
        say(f"mutate: copying the tree to {scratch}")
        copy_tree(scratch)
        env = build_env(scratch)
        all_tests = []
        for m in runnable:
            all_tests += [t for t in m.tests if t not in all_tests]
        ok, out = make(scratch, env, build_targets(all_tests))
        if not ok:
            say(out[-4000:])
            say("mutate: the unmutated tree does not build")
            return 2
        if args.build_only:
            return build_only(scratch, env, runnable, problems)
        if not args.no_baseline:
            say(f"mutate: baseline: {len(all_tests)} named tests on the unmutated tree")
            state, detail = run_tests(scratch, env, all_tests, stop_first=False)
            if state != "pass":
                say(f"mutate: baseline {state}: {detail}")
                say("mutate: the named tests must pass before mutations mean anything")
                return 2
            say(f"mutate: baseline passed ({time.monotonic() - t0:.0f}s)")

        results = {}
        width = max([len(m.id) for m in muts] + [8])
        for i, m in enumerate(runnable, 1):
            start = time.monotonic()
            originals = apply(scratch, m)
            try:
                ok, out = make(scratch, env, build_targets(m.tests))
                if not ok:
                    errs = [l for l in out.splitlines() if "error" in l]
                    state, detail = "build-failed", (errs or out.strip().splitlines()[-1:])[0]
                else:
                    state, detail = run_tests(scratch, env, m.tests, stop_first=True)
            finally:
                restore(originals)
            verdict = {"fail": "caught", "timeout": "caught", "pass": "SURVIVED"}.get(state, "ERROR")
            results[m.id] = verdict
            note = {"fail": f"by {detail}", "timeout": "(the tests hung)",
                    "pass": f"- {m.breaks}"}.get(state, f"{state}: {detail}")
            say(f"[{i:>3}/{len(runnable)}] {m.id:<{width}} {verdict:<8} "
                f"{time.monotonic() - start:5.1f}s {note}")
        # The tree is back as it was: build it once more so that a kept copy is consistent.
        if args.keep:
            make(scratch, env, ["all"])
    finally:
        if args.keep:
            say(f"mutate: scratch copy kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    caught = [k for k, v in results.items() if v == "caught"]
    survived = [k for k, v in results.items() if v == "SURVIVED"]
    errors = [k for k, v in results.items() if v == "ERROR"] + list(problems)
    minutes = (time.monotonic() - t0) / 60
    say(f"mutate: {len(muts)} mutations: {len(caught)} caught, {len(survived)} survived, "
        f"{len(errors)} stale or broken ({minutes:.1f} min)")
    if survived:
        say("mutate: survived: " + ", ".join(survived))
    if errors:
        say("mutate: stale or broken: " + ", ".join(errors))
    return 0 if not survived and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
