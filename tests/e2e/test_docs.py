"""The README's policy table is the one printed from the settings table, and the shipped config
passes the server's own check."""
import os
import subprocess

from conftest import BIN, TOP


def test_readme_policy_table_matches_the_settings_table(server):
    table = server.ctl("policy", "show", "--markdown").stdout
    with open(os.path.join(TOP, "README.md")) as f:
        assert table in f.read(), "README.md's policy table is stale: paste `policy show --markdown`"


def test_every_policy_key_is_in_the_shipped_config(server):
    keys = [line.split("`")[1] for line in server.ctl("policy", "show", "--markdown").stdout
            .splitlines()[2:]]
    with open(os.path.join(TOP, "conf", "gatehouse.conf")) as f:
        conf = f.read()
    for k in keys:
        assert f"\n{k} = " in conf, k


def test_shipped_config_passes_the_check():
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", "conf/gatehouse.conf", "-t"],
                       cwd=TOP, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "configuration OK" in p.stdout


def test_shipped_config_is_the_one_printed_from_the_settings_table():
    """conf/gatehouse.conf is written by `gatehouse -p conf` from the table the parser reads: a
    key added to the parser without regenerating the file (`make config`) fails here."""
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-p", "conf"], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(TOP, "conf", "gatehouse.conf")) as f:
        assert p.stdout == f.read(), "conf/gatehouse.conf is stale: run `make config`"


def test_every_default_in_the_table_parses(tmp_path):
    """The defaults are parsed by the same code as the file: the printed file passes the check
    and the server says nothing about a built-in default."""
    conf = tmp_path / "all.conf"
    conf.write_text(subprocess.run([os.path.join(BIN, "gatehouse"), "-p", "conf"],
                                   capture_output=True, text=True, check=True).stdout)
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", str(conf), "-t"], cwd=TOP,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "built-in default" not in p.stderr


def test_readme_says_which_keys_sighup_reloads():
    """The README's per-key table of what SIGHUP reloads is the one printed from conf.c."""
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-p", "reload"], capture_output=True,
                       text=True, check=True)
    with open(os.path.join(TOP, "README.md")) as f:
        assert p.stdout in f.read(), "README.md's reload table is stale: paste `gatehouse -p reload`"


def test_man_page_settings_list_every_key():
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-p", "man"], capture_output=True,
                       text=True, check=True)
    with open(os.path.join(TOP, "conf", "gatehouse.conf")) as f:
        keys = [ln.split(" =")[0] for ln in f if ln[0] not in ";[\n"]
    sections = [ln[1:-2] for ln in open(os.path.join(TOP, "conf", "gatehouse.conf"))
                if ln.startswith("[")]
    for s in sections:
        assert f".SS [{s}]\n" in p.stdout, s
    for k in keys:
        assert f'.BI "{k} = " ' in p.stdout.replace("\\-", "-"), k


def test_nothing_cites_a_file_outside_the_repository():
    """The product is self-contained: what it relies on is in its own docs (docs/lasso-notes.md)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=TOP, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "docs/lasso-notes.md" in tracked
    outside = ("../shared", "/work/shared", "shared/idp-samples", "LASSO-NOTES")
    for path in tracked:
        if path.startswith("tests/fixtures/") or path == "tests/e2e/test_docs.py":
            continue
        try:
            with open(os.path.join(TOP, path), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        for s in outside:
            assert s not in text, f"{path} cites {s}"
