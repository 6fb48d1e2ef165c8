"""A throwaway PostgreSQL cluster that a test may stop hard: initdb into a temporary folder, a
free port, its own socket directory. Never the machine's shared server."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # initdb and postgres refuse to run as root
START_TIMEOUT_S = 30


@dataclass(frozen=True)
class Cluster:
    """One cluster's folder and port, and the commands that start and stop it."""

    bindir: Path
    folder: Path
    port: int
    run_as: tuple[str, ...]  # ("runuser", "-u", "postgres", "--") when we are root

    @property
    def url(self) -> str:
        """Where Anlao connects (trust authentication: no password)."""
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def server_log(self) -> Path:
        """The server's own log: read it when a test fails."""
        return self.folder / "server.log"

    def start(self) -> None:
        """Start the server and wait until it accepts connections (after crash recovery)."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c shared_buffers=16MB -c max_connections=100"
        )
        self._pg_ctl("start", "-w", "-t", str(START_TIMEOUT_S), "-l", str(self.server_log),
                     "-o", options)  # fmt: skip

    def stop_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: every server process quits at once, with no shutdown
        checkpoint; the next start runs crash recovery from the write-ahead log."""
        self._pg_ctl("stop", "-m", "immediate", "-w")

    def remove(self) -> None:
        """Stop the server if it runs and delete the folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), *args)

    def _run(self, program: str, *args: str) -> None:
        # Output goes to files, not pipes: the server pg_ctl leaves running must not hold a
        # pipe of ours open.
        with open(self.folder / "commands.log", "ab") as out:
            subprocess.run(  # fixed programs of the PostgreSQL install, no shell
                [*self.run_as, str(self.bindir / program), *args],
                check=True, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=60,
            )  # fmt: skip


def why_unavailable() -> str | None:
    """Why no throwaway cluster can be made here (None when one can)."""
    if _bindir() is None:
        return "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as another user"
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run initdb as"
    return None


def create_cluster() -> Cluster:
    """initdb a new cluster into a fresh folder under the system temp directory (pytest's own
    tmp_path is private to root, where the server user could not reach it) and start it."""
    bindir = _bindir()
    assert bindir is not None, why_unavailable()
    folder = Path(tempfile.mkdtemp(prefix="anlao-pg-"))
    run_as: tuple[str, ...] = ()
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ("runuser", "-u", SERVER_USER, "--")
    cluster = Cluster(bindir=bindir, folder=folder, port=_free_port(), run_as=run_as)
    try:
        cluster._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", SERVER_USER,
                     "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        # --no-sync only skips flushing the fresh files of initdb; the server itself keeps
        # its defaults (fsync and synchronous_commit on): the durability under test.
        cluster.start()
    except BaseException:
        cluster.remove()
        raise
    return cluster


def _bindir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them off the PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _major_version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
