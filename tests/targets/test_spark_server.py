"""The local Spark Thrift server's life cycle (clm.targets.spark_server), on a stand-in process instead of a
JVM: the port it picks, the endpoint file, that stop ends the whole process group, and that a killed parent
(`kill -9` of `clm run`) takes the server with it. The real server runs in tests/targets/test_spark_run.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clm.config import load_settings
from clm.targets import spark_server
from clm.targets.spark import SparkTarget, SparkTargetError
from clm.targets.spark_server import Endpoint, LocalThriftServer, read_endpoint

# A "server" that starts a child of its own and sleeps: its whole group must go.
STAND_IN = [
    sys.executable,
    "-c",
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "time.sleep(600)",
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_server, "command", lambda _dir, _port, **_: STAND_IN)
    monkeypatch.setattr(spark_server, "hive_stub_classes", lambda _dir: None)
    monkeypatch.setattr(spark_server, "spark_submit", lambda: Path(sys.executable))
    monkeypatch.setattr(spark_server, "answers", lambda _endpoint, timeout_s=0: True)


def test_the_preferred_port_when_free_else_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        other = spark_server.choose_port(busy)
        assert other != busy and other > 0
    assert spark_server.choose_port(busy) == busy


def test_start_writes_the_endpoint_and_stop_ends_the_group(stand_in: None, tmp_path: Path) -> None:
    server = LocalThriftServer(tmp_path / "spark", port=None)
    endpoint = server.start()
    pid = server.process.pid
    assert read_endpoint(tmp_path / "spark") == endpoint
    time.sleep(0.5)  # the stand-in's own child
    group = [int(p) for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == pid]
    assert len(group) >= 2
    server.stop()
    assert all(_wait_gone(p) for p in group)
    assert read_endpoint(tmp_path / "spark") is None
    server.stop()  # idempotent


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_a_killed_parent_takes_the_server_with_it(tmp_path: Path) -> None:
    """The parent (clm run) is killed with SIGKILL, so no finally runs: the parent-death signal ends it. The
    parent ignores SIGTERM, as a CI worker did (an ignored signal is inherited across exec): the server must
    still get it."""
    script = textwrap.dedent(
        f"""
        import signal, sys, time
        from pathlib import Path
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        from clm.targets import spark_server
        spark_server.command = lambda _dir, _port, **_: {STAND_IN!r}
        spark_server.hive_stub_classes = lambda _dir: None
        spark_server.spark_submit = lambda: Path(sys.executable)
        spark_server.answers = lambda _endpoint, timeout_s=0: True
        server = spark_server.LocalThriftServer(Path({str(tmp_path / "spark")!r}), port=None)
        server.start()
        print(server.process.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert _wait_gone(child), "the server outlived the process that started it"
    finally:
        parent.kill()
        parent.wait()


def test_without_a_server_the_target_says_what_to_do(tmp_path: Path) -> None:
    target = SparkTarget(load_settings({"CLM_DATA_DIR": str(tmp_path)}))
    with pytest.raises(SparkTargetError, match="CLM_SPARK_HOST"):
        target.endpoint()
    # Between local runs, what BI reads as published comes from the file the last publish left.
    assert target.published_runs() == set()


def test_the_users_server_wins(tmp_path: Path) -> None:
    env = {"CLM_DATA_DIR": str(tmp_path), "CLM_SPARK_HOST": "spark.example", "CLM_SPARK_PORT": "10001"}
    target = SparkTarget(load_settings(env))
    assert target.endpoint() == Endpoint("spark.example", 10001)
    assert target.dbt_env()["CLM_SPARK_METHOD"] == "thrift"
    assert target.dbt_vars() == {"schema_prefix": "build_"}


# Loads Hive's FunctionRegistry (its static block registers every Hive function) and says whether it could.
PROBE = """
public class Probe {
  public static void main(String[] args) {
    try {
      Class.forName("org.apache.hadoop.hive.ql.exec.FunctionRegistry");
      System.out.println("initialised");
    } catch (Throwable error) {
      for (Throwable e = error; e != null; e = e.getCause()) System.out.println(e);
    }
  }
}
"""


def test_the_hive_stub_lets_hives_function_registry_initialise(tmp_path: Path) -> None:
    """pyspark's jars lack hive-llap-common (SPARK-51041): on them alone Hive's FunctionRegistry fails to
    initialise on LlapSigner$Signable, which failed a dbt session close on the local Thrift server; with
    the compiled stub on the class path it initialises. A JVM on pyspark's jars, as the server's."""
    javac = spark_server._javac()
    try:
        import pyspark
    except ImportError:
        pyspark = None
    if javac is None or pyspark is None:
        message = "needs a JDK's javac and pyspark (the spark extra)"
        if os.environ.get("CLM_REQUIRE_SPARK") == "1":
            pytest.fail(message + " (CLM_REQUIRE_SPARK=1)")
        pytest.skip(message)
    (tmp_path / "Probe.java").write_text(PROBE)
    subprocess.run([javac, "-d", str(tmp_path), str(tmp_path / "Probe.java")], check=True)
    java = Path(javac).with_name("java")
    jars = Path(pyspark.__file__).parent / "jars" / "*"

    def probe(*extra: Path) -> str:
        class_path = os.pathsep.join([str(tmp_path), *map(str, extra), str(jars)])
        cmd = [str(java), "--add-opens=java.base/java.net=ALL-UNNAMED", "-cp", class_path, "Probe"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout

    assert "NoClassDefFoundError: org/apache/hadoop/hive/llap/security/LlapSigner$Signable" in probe()
    stub = spark_server.hive_stub_classes(tmp_path / "spark")
    assert stub is not None
    assert probe(stub).strip() == "initialised"
    # compiled once: a second start reuses the classes
    compiled = stub / "org/apache/hadoop/hive/llap/security/LlapSigner$Signable.class"
    before = compiled.stat().st_mtime_ns
    assert spark_server.hive_stub_classes(tmp_path / "spark") == stub
    assert compiled.stat().st_mtime_ns == before
