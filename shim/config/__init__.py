"""Configuration: discovery and the compiled-config cache (`compiled`, hot path), and the slow
YAML -> merge -> validate -> normalise builder (`build`) that runs only on a cache miss.

Nothing is imported here: `from shim.config import compiled` is on every shim call. The two
names below are shared by `compiled`, `build` and `trust` (defined here so that neither of the
latter imports the former, which imports them).
"""

PROJECT_FILE = ".llm-shim.yaml"
TRUST_ENV = "LLM_SHIM_TRUST_PROJECT_FILES"  # shim.config.trust.ENV_VAR
