"""Times one benchmark case with the Python Docker SDK (Debian's python3-docker), for tests/bench/Invoke-Benchmark.ps1.

One long-lived process per case, so that the interpreter's start-up and the client's connection are not timed, only
the SDK calls a user would make in a warm program. The benchmark interleaves this case with its peers: each line
on stdin asks for one repetition (its setup untimed, then the timed calls), answered by one line on stdout, the
milliseconds it took. Containers it made are removed at the end of input.

usage: docker_sdk_bench.py CASE IMAGE [FILE]
  CASE: create | exec | exec-1mib | copy-in | copy-out | stop | list | throughput:COUNT:THREADS
  FILE: for copy-in/copy-out, the local file to copy in (and the size to expect back)
  throughput: COUNT containers started, used (exec_run true) and removed, THREADS at a time on one client
"""
import io
import os
import shutil
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import docker

CASE, IMAGE = sys.argv[1], sys.argv[2]
FILE = sys.argv[3] if len(sys.argv) > 3 else None
LABEL = {"io.sandbox.bench": "python-sdk"}

THREADS = int(CASE.split(":")[2]) if CASE.startswith("throughput:") else 1
# One client for all threads, as a program would share it; its connection pool holds at least one per thread.
client = docker.from_env(max_pool_size=max(10, THREADS))
made = []
scratch = tempfile.mkdtemp(prefix="sandbox-bench-sdk-")


def start():
    container = client.containers.run(IMAGE, ["sleep", "600"], detach=True, init=True, labels=LABEL)
    made.append(container)
    return container


def copy_in(container):
    # What a user writes: tar the file, then put_archive; the SDK wants the tar as bytes, so it is built in memory.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(FILE, arcname="payload.bin")
    container.put_archive("/tmp", buffer.getvalue())


def copy_out(target):
    container, folder = target
    stream, _ = container.get_archive("/tmp/payload.bin")
    buffer = io.BytesIO()
    for chunk in stream:
        buffer.write(chunk)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r") as tar:
        tar.extractall(folder)
    if os.path.getsize(os.path.join(folder, "payload.bin")) != os.path.getsize(FILE):
        raise SystemExit("copy-out: wrong size")


def case():
    """(setup, action): setup() is not timed, action(setup()) is."""
    if CASE == "create":
        return (lambda: None), (lambda _: start())
    if CASE == "stop":
        return start, (lambda c: c.remove(force=True))
    if CASE == "list":
        # sparse: one list request, as Get-Sandbox makes (without it the SDK inspects every container too).
        return (lambda: None), (lambda _: client.containers.list(all=True, sparse=True, filters={"label": "io.sandbox.managed=true"}))
    if CASE.startswith("throughput:"):
        count = int(CASE.split(":")[1])

        def lifecycle(_):
            container = client.containers.run(IMAGE, ["sleep", "600"], detach=True, init=True, labels=LABEL)
            try:
                container.exec_run("true")
            finally:
                container.remove(force=True)

        def many(_):
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                list(pool.map(lifecycle, range(count)))
        return (lambda: None), many
    box = start()
    if CASE == "exec":
        return (lambda: box), (lambda c: c.exec_run("true"))
    if CASE == "exec-1mib":
        # 1 MiB of output as 1024 lines, the same command as the module's and the CLI's rows.
        return (lambda: box), (lambda c: c.exec_run(["sh", "-c", "head -c 1047552 /dev/zero | tr '\\0' a | fold -w 1023"]))
    if CASE == "copy-in":
        return (lambda: box), copy_in
    if CASE == "copy-out":
        copy_in(box)
        return (lambda: (box, scratch)), copy_out
    raise SystemExit(f"unknown case {CASE}")


try:
    setup, action = case()
    print("ready", flush=True)
    for _ in sys.stdin:
        state = setup()
        began = time.perf_counter()
        action(state)
        print((time.perf_counter() - began) * 1000, flush=True)
finally:
    shutil.rmtree(scratch, ignore_errors=True)
    for container in made:
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass
