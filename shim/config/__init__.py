"""Configuration: discovery and the compiled-config cache (`compiled`, hot path), and the slow
YAML -> merge -> validate -> normalise builder (`build`) that runs only on a cache miss.

Nothing is imported here: `from shim.config import compiled` is on every shim call.
"""
