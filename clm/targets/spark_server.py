"""A local Spark Thrift server for one `clm run --target spark` (issue 16).

The run's dbt commands and clm's own steps (raw tables, CLV inputs and results, gate, publish) all go through
one Thrift server, as they would through a cluster's (Spark's in-process session keeps an embedded Derby
metastore that only one process may open). With ``CLM_SPARK_HOST`` set that is the user's
server; without it ``clm run --target spark`` starts this one from pyspark's own jars:

- ``spark-submit --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2``, bound to 127.0.0.1, on
  ``CLM_SPARK_PORT`` (default 10000) when that port is free, else on a free port;
- its table catalog (Derby metastore) and table files under ``CLM_DATA_DIR/spark``, its log in
  ``CLM_DATA_DIR/spark/thriftserver.log``;
- ``start`` waits until the server answers a query; ``stop`` ends the JVM (SIGTERM, then SIGKILL);
- no orphan JVM: the JVM runs in its own process group with a parent-death signal (Linux
  ``PR_SET_PDEATHSIG``), so it gets SIGTERM when the process that started it dies, even by SIGKILL;
  ``stop`` runs on every exit path;
- while it runs, ``CLM_DATA_DIR/spark/thrift.endpoint`` holds ``host:port``: ``SparkTarget`` finds the server
  there (also in a Dagster step of the same run), and ``clean_leftovers`` removes a killed run's file.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
LOCAL_HOST = "127.0.0.1"
DEFAULT_PORT = 10000
ENDPOINT_FILE = "thrift.endpoint"
LOG_FILE = "thriftserver.log"
# A cold JVM, Hive's metastore schema created in Derby and the first query: about 30-60 s on 2 shared cores.
START_TIMEOUT_S = 300
STOP_TIMEOUT_S = 30
_PR_SET_PDEATHSIG = 1


class SparkServerError(RuntimeError):
    """The local Thrift server could not start; the message says why and where its log is."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def endpoint_path(spark_dir: Path) -> Path:
    return spark_dir / ENDPOINT_FILE


def read_endpoint(spark_dir: Path) -> Endpoint | None:
    """The running local server's endpoint, if ``spark_dir`` has one."""
    path = endpoint_path(spark_dir)
    try:
        host, _, port = path.read_text().strip().rpartition(":")
        return Endpoint(host, int(port))
    except (OSError, ValueError):
        return None


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((LOCAL_HOST, port))
        except OSError:
            return False
    return True


def choose_port(preferred: int | None) -> int:
    """``preferred`` when it is free (a stable port keeps dbt's partial parse: the profile is part of it),
    else one the kernel hands out."""
    if preferred and _port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCAL_HOST, 0))
        return probe.getsockname()[1]


def spark_submit() -> Path:
    """pyspark's own spark-submit (the `spark` extra)."""
    try:
        import pyspark
    except ImportError as error:
        raise SparkServerError(
            "clm run --target spark without CLM_SPARK_HOST starts a local Spark Thrift server from pyspark's "
            "jars: install the spark extra (pip install -e '.[spark]') or set CLM_SPARK_HOST"
        ) from error
    return Path(pyspark.__file__).parent / "bin" / "spark-submit"


# The local server's JVM heap (driver and executors are one JVM in local mode), shared by the tasks of dbt's
# two threads. At 100,000 customers rpt_cohort_retention_by_dimension failed on Spark's default, 1g ("Not
# enough memory to build and broadcast the table"), and once in two runs on 2g (AGGREGATE_OUT_OF_MEMORY).
# Since that model adds up once per combination of attribute values (a9d0798), a full and a one-new-day 100k
# run both published at 2g (2026-12-08, benchmarks/results.md); 4g stays, for headroom.
DRIVER_MEMORY = "4g"
# Shuffle partitions: a few per core of local[2], so that one task's aggregation holds a quarter of a stage's
# rows rather than half; adaptive execution coalesces the small ones back (the CI fixture's stages are tiny).
SHUFFLE_PARTITIONS = "8"


# pyspark's jars lack Hive's hive-llap-common (SPARK-51041), so Hive's FunctionRegistry cannot initialise:
# its static block loads GenericUDTFGetSplits, whose code refers to LlapSigner.Signable. The Thrift server
# gets there on some session closes (SessionState.close asks Hive.get for a metastore client; a worker
# thread without one creates it, registering every Hive function first): the NoClassDefFoundError fails the
# client's close (dbt stopped a 100,000-customer build with "TCloseSessionResp ... LlapSigner$Signable") and
# leaves Hive's registration pending. The interface's declaration (hive_stub/LlapSigner.java), compiled once
# into the catalog's folder and put on the server's class path, lets the registry initialise.
HIVE_STUB_SOURCE = Path(__file__).with_name("hive_stub") / "LlapSigner.java"
HIVE_STUB_DIR = "hive-stub"


def _javac() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "javac").is_file():
        return str(Path(home) / "bin" / "javac")
    return shutil.which("javac")


def hive_stub_classes(spark_dir: Path) -> Path | None:
    """The folder of the compiled Hive stub for the server's class path (compiled on first use), or None
    without a JDK's javac: the server then runs without it and may fail a client's session close."""
    classes = spark_dir / HIVE_STUB_DIR
    compiled = classes / "org/apache/hadoop/hive/llap/security/LlapSigner$Signable.class"
    if compiled.is_file() and compiled.stat().st_mtime >= HIVE_STUB_SOURCE.stat().st_mtime:
        return classes
    javac = _javac()
    if javac is None:
        return None
    done = subprocess.run(
        [javac, "--release", "17", "-nowarn", "-d", str(classes), str(HIVE_STUB_SOURCE)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SparkServerError(f"compiling {HIVE_STUB_SOURCE} for the local Thrift server: {done.stderr}")
    return classes


def server_settings(spark_dir: Path) -> dict[str, str]:
    """The server's Spark settings: the catalog and the tables' files under ``spark_dir``."""
    from clm.targets.spark import session_settings

    settings = session_settings(spark_dir)
    settings["spark.sql.shuffle.partitions"] = SHUFFLE_PARTITIONS
    settings["spark.driver.memory"] = DRIVER_MEMORY
    return settings


def command(spark_dir: Path, port: int, master: str = "local[2]", stub: Path | None = None) -> list[str]:
    cmd = [str(spark_submit()), "--master", master, "--class", THRIFT_SERVER_CLASS, "--name", "clm-thrift"]
    if stub is not None:  # local mode: the driver's class path is the whole server's
        cmd += ["--driver-class-path", str(stub)]
    for key, value in server_settings(spark_dir).items():
        cmd += ["--conf", f"{key}={value}"]
    hive = {
        "hive.server2.thrift.bind.host": LOCAL_HOST,
        "hive.server2.thrift.port": str(port),
        # Hive's scratch and operation logs beside the catalog, not in /tmp/<user>
        "hive.exec.local.scratchdir": str(spark_dir / "scratch"),
        "hive.server2.logging.operation.log.location": str(spark_dir / "operation_logs"),
    }
    for key, value in hive.items():
        cmd += ["--hiveconf", f"{key}={value}"]
    return [*cmd, "spark-internal"]


def _die_with_parent_hook() -> Callable[[], None] | None:
    """The ``preexec_fn`` that asks the kernel for SIGTERM when this process dies (Linux ``prctl``), or None.

    libc is loaded here, in the parent: loading a library between fork and exec can deadlock on a lock
    another thread held at the fork, and an error there was silently lost. The child also checks that its
    parent is still the one that forked it: a parent killed before the ``prctl`` sends no signal."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:  # runs in the child between fork and exec: no allocation-heavy work
        # An ignored or blocked SIGTERM survives exec: a parent that ignores it (a test worker, a shell's
        # `trap '' TERM`) would leave the server deaf to the parent-death signal.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return hook


def answers(endpoint: Endpoint, timeout_s: float = 10.0) -> bool:
    """True when the server at ``endpoint`` runs a query."""
    from clm.targets.spark import thrift_connection

    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout_s):
            pass
        with thrift_connection(endpoint) as conn:
            cursor = conn.cursor()
            cursor.execute("select 1")
            return cursor.fetchall() == [(1,)]
    except Exception:
        return False


class LocalThriftServer:
    """One local Thrift server: ``start()`` (waits until it answers), ``stop()``; or ``with`` it."""

    def __init__(self, spark_dir: Path, port: int | None = DEFAULT_PORT):
        self.spark_dir = spark_dir
        self.preferred_port = port
        self.process: subprocess.Popen | None = None
        self.endpoint: Endpoint | None = None
        self.start_seconds: float | None = None
        self._stopping = threading.Lock()

    @property
    def log_path(self) -> Path:
        return self.spark_dir / LOG_FILE

    def start(self, timeout_s: float = START_TIMEOUT_S) -> Endpoint:
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise SparkServerError(
                "the local Spark Thrift server needs Java 17 (java on PATH, or JAVA_HOME); or set "
                "CLM_SPARK_HOST to a running server"
            )
        self.spark_dir.mkdir(parents=True, exist_ok=True)
        endpoint_path(self.spark_dir).unlink(missing_ok=True)
        port = choose_port(self.preferred_port)
        env = dict(os.environ)
        # Python UDF workers (none in clm's SQL) would run this interpreter; SPARK_HOME is pyspark's.
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        env["SPARK_HOME"] = str(spark_submit().parent.parent)
        started = time.monotonic()
        stub = hive_stub_classes(self.spark_dir)
        with open(self.log_path, "ab") as log:
            if stub is None:
                log.write(
                    b"clm: no javac (a JDK's) found: the server starts without the Hive stub "
                    b"(clm/targets/spark_server.py), and a client's session close may fail (SPARK-51041)\n"
                )
                log.flush()
            self.process = subprocess.Popen(
                command(self.spark_dir, port, stub=stub),
                cwd=self.spark_dir,  # derby.log and anything else relative lands here
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent_hook(),
            )
        endpoint = Endpoint(LOCAL_HOST, port)
        deadline = started + timeout_s
        try:
            while True:
                if self.process.poll() is not None:
                    raise SparkServerError(
                        f"the local Spark Thrift server exited with code {self.process.returncode} while "
                        f"starting: see {self.log_path}"
                    )
                if answers(endpoint, timeout_s=5):
                    break
                if time.monotonic() > deadline:
                    raise SparkServerError(
                        f"the local Spark Thrift server did not answer within {timeout_s:.0f} s: see "
                        f"{self.log_path}"
                    )
                time.sleep(1)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        self.endpoint = endpoint
        endpoint_path(self.spark_dir).write_text(f"{endpoint}\n")
        return endpoint

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """End the JVM and its process group (SIGTERM, SIGKILL after ``timeout_s``); idempotent, and a call
        from another thread meanwhile (clm run's stop guard) returns once the JVM is gone."""
        with self._stopping:
            endpoint_path(self.spark_dir).unlink(missing_ok=True)
            proc, self.process, self.endpoint = self.process, None, None
            if proc is None:
                return
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=timeout_s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> LocalThriftServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def local_server(spark_dir: Path, port: int | None = DEFAULT_PORT) -> Iterator[LocalThriftServer]:
    server = LocalThriftServer(spark_dir, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
