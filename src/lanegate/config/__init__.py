"""Configuration: policy packs, lanes and gateway settings, loaded from YAML and validated with pydantic."""

from lanegate.config.errors import ConfigError, Problem
from lanegate.config.lane import LaneConfig
from lanegate.config.loader import LoadedConfig, load_config, load_sources

__all__ = ["ConfigError", "LaneConfig", "LoadedConfig", "Problem", "load_config", "load_sources"]
