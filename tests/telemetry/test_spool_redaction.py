"""With `privacy: full`, secrets are redacted before the spool line is written (issue 15,
item 8), not only at ingestion: the spool is a file on disk too."""

import os
import subprocess

import yaml

from shim import paths
from shim.telemetry import spool
from tests.support.launchers import write_launcher

ANT = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
OPENAI = "sk-proj1234567890abcdefghijKLMNOP"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SECRETS = (ANT, OPENAI, GITHUB)


def test_full_mode_record_has_secrets_redacted(make_record, cfg):
    cfg["policies"]["privacy"] = "full"
    prompt = f"use {ANT} and {OPENAI} to push with {GITHUB} please"
    rec = make_record(outcome={"prompt_text": prompt, "response_text": f"ok, {GITHUB}"})
    assert rec["prompt_text"] == "use [REDACTED] and [REDACTED] to push with [REDACTED] please"
    assert rec["response_text"] == "ok, [REDACTED]"
    assert rec["prompt_chars"] == len(prompt)  # the length is the real one


def test_no_secret_reaches_the_spool_through_a_shim(tmp_path, fake_cli):
    fake_cli("claude")
    shims = tmp_path / "shims"
    shims.mkdir()
    write_launcher(shims / "claude")
    os.makedirs(paths.config_dir(), exist_ok=True)
    with open(paths.user_config_file(), "w") as fh:
        yaml.safe_dump({"policies": {"privacy": "full"}}, fh)
    env = dict(os.environ,
               PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"]))
    prompt = "deploy with " + " and ".join(SECRETS)
    proc = subprocess.run(["claude", "-p", prompt], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    spooled = open(spool.spool_file(), "rb").read()
    assert b"deploy with [REDACTED] and [REDACTED] and [REDACTED]" in spooled
    for secret in SECRETS:
        assert secret.encode() not in spooled
