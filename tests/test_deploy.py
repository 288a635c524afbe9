"""The example service units and reverse proxy configuration (deploy/),
each checked by its own tool: `systemd-analyze verify` and `nginx -t`.
Skipped where the tool is missing locally; CI installs both (.ci/run)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def tool(name):
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: .ci/run installs it")
        pytest.skip(f"{name} is not installed")
    return found


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.parametrize("unit", ["tracker.service", "tracker-worker.service"])
def test_systemd_units_verify(unit, tmp_path):
    """As installed, with this checkout standing in for /srv/tracker (verify
    checks that every command exists)."""
    analyze = tool("systemd-analyze")
    env = tmp_path / "env"
    env.write_text("SECRET_KEY=x\n")
    text = (DEPLOY / unit).read_text()
    assert "Restart=on-failure" in text
    assert "User=tracker" in text
    assert "NoNewPrivileges=true" in text
    installed = tmp_path / unit
    installed.write_text(
        text.replace("/srv/tracker", str(ROOT)).replace("/etc/tracker/env", str(env))
    )
    done = run(analyze, "verify", str(installed))
    assert done.returncode == 0, done.stderr
    assert not done.stderr.strip(), done.stderr


def test_a_broken_unit_is_caught(tmp_path):
    """The check above can fail: a unit with an unknown restart rule does."""
    analyze = tool("systemd-analyze")
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart=/bin/true\nRestart=sometimes\n")
    assert run(analyze, "verify", str(broken)).stderr.strip()


def nginx_test(tmp_path, server):
    """`nginx -t` of `server` inside a minimal nginx.conf, with a throw-away
    certificate where the real one would be."""
    nginx = tool("nginx")
    openssl = tool("openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    made = run(
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=tracker.example.org", "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    server = server.replace(
        "/etc/letsencrypt/live/tracker.example.org/fullchain.pem", str(cert)
    ).replace("/etc/letsencrypt/live/tracker.example.org/privkey.pem", str(key))
    (tmp_path / "server.conf").write_text(server)
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {tmp_path}/server.conf; }}\n"
    )
    return run(nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(conf))


def test_the_proxy_configuration_is_valid(tmp_path):
    text = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "client_max_body_size" in text
    assert "proxy_read_timeout" in text
    done = nginx_test(tmp_path, text)
    assert done.returncode == 0, done.stderr


def test_a_broken_proxy_configuration_is_caught(tmp_path):
    done = nginx_test(tmp_path, "server { listen 443 ssl; proxy_pass; }")
    assert done.returncode != 0
