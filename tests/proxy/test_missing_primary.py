"""A missing primary tool is a fallback trigger (binary_missing), not an exit 127."""


def test_missing_primary_falls_back_to_the_next_tool(run_shim, shims, fake_cli, tmp_path):
    codex = fake_cli("codex")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("schema_version: 1\npolicies:\n  fallback:\n    chains:\n"
                   "      claude: [{tool: codex, model: gpt-5.5}]\n")
    proc = run_shim(["claude", "-p", "write a haiku"], env={"LLM_SHIM_CONFIG": str(cfg),
                                                             "FAKE_STDOUT": "from codex\n"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"from codex\n"
    argv = codex.calls()[0]["argv_text"]
    assert argv[0] == "exec" and argv[-1] == "write a haiku" and "gpt-5.5" in argv


def test_missing_primary_without_fallbacks_still_exits_127(run_shim, shims, fake_cli):
    fake_cli("codex")
    proc = run_shim(["claude", "-p", "write a haiku"])
    assert proc.returncode == 127
