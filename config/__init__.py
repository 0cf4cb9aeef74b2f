"""Container configuration: one typed settings object, read from the environment once."""

from config.settings import Settings, SettingsError, from_env, load

__all__ = ["Settings", "SettingsError", "from_env", "load"]
