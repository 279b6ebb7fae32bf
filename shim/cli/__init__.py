"""The `llm-shim` management CLI (argparse, laid out like pipx)."""
