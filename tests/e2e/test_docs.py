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
