"""Infrastructure: processes, ports, run state, signals, secrets masking, run ids, tmpfs,
the bytecode cache.

The bottom floor: knows nothing of services, databases or tests.
"""

from typing import TYPE_CHECKING

from harness._lazy import public_names

if TYPE_CHECKING:
    from harness.infra._bytecode import bytecode_cached, with_bytecode_cache
    from harness.infra._cpus import cgroup_quotas, usable_cpus
    from harness.infra._masking import mask_secrets
    from harness.infra._ports import (
        HOST,
        PortReservations,
        is_port_free,
        port_owner,
        wait_until_free,
    )
    from harness.infra._processes import (
        ProcessRecord,
        kill_tagged,
        log_tail,
        processes_carrying,
        run_step,
        spawn,
        stop_group,
    )
    from harness.infra._readiness import (
        CommandProbe,
        HttpProbe,
        LogProbe,
        Probe,
        TcpProbe,
        log_size,
        wait_healthy,
        wait_ready,
    )
    from harness.infra._run_ids import check_run_id, is_run_id, session_run_id
    from harness.infra._signals import signals_deferred, sigterm_raises
    from harness.infra._state import (
        CreatedDatabases,
        DatabaseRecord,
        RunDirectory,
        RunState,
        ServiceRecord,
        list_runs,
    )
    from harness.infra._tmpfs import SQLITE_ROOM, TMPFS
    from harness.infra._tmpfs import directory as tmpfs_directory
    from harness.infra._tmpfs import directory_or_under as tmpfs_directory_or_under
else:  # type checkers see the imports above; the package imports them on first use
    __all__, __getattr__ = public_names(__name__, __file__)
