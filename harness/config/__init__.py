"""`[tool.harness]` read into a typed, validated `HarnessConfig` (services, auxiliary
servers, third-party stubs and their recordings, back ends, …), and the TOML helpers that
the scenario and budget files share."""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.config._project import (
        BACKENDS,
        HarnessConfig,
        ServiceConfig,
        load_config,
        parse_config,
        script_location,
    )
    from harness.config._recordings import (
        Recording,
        load_recordings,
        recording_for,
        shape_differences,
    )
    from harness.config._servers import Readiness, ServerConfig, is_redis_url
    from harness.config._stubs import DEFAULT_SCOPE_HEADER, StubConfig
    from harness.config._tables import (
        Count,
        Seconds,
        did_you_mean,
        read_toml,
        typed,
    )
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
