"""Where model weights come from. Knows nothing of the rest of StreetWatch."""

from models.registry import DEFAULT_ASSETS_DIR, FALLBACK_MODEL, default_model_path

__all__ = ["DEFAULT_ASSETS_DIR", "FALLBACK_MODEL", "default_model_path"]
