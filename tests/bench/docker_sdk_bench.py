"""Times one benchmark case with the Python Docker SDK (Debian's python3-docker), for tests/bench/Invoke-Benchmark.ps1.

One long-lived process per case: the interpreter's start-up and the client's connection are not timed, only the
SDK calls a user would make in a warm program. It does one warm-up and N timed repetitions, and prints
{"samples_ms": [...]} on stdout.

usage: docker_sdk_bench.py CASE REPEAT IMAGE [FILE]
  CASE: create | exec | copy-in | copy-out | stop | list
  FILE: for copy-in/copy-out, the local file to copy in (and the size to expect back)
"""
import io
import json
import os
import sys
import tarfile
import tempfile
import time

import docker

CASE, REPEAT, IMAGE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
FILE = sys.argv[4] if len(sys.argv) > 4 else None
LABEL = {"io.sandbox.bench": "python-sdk"}

client = docker.from_env()
made = []


def start():
    container = client.containers.run(IMAGE, ["sleep", "600"], detach=True, init=True, labels=LABEL)
    made.append(container)
    return container


def timed(setup, action):
    """Warm-up once, then REPEAT timed runs of action(setup()); setup is not timed."""
    samples = []
    for i in range(REPEAT + 1):
        state = setup()
        began = time.perf_counter()
        action(state)
        elapsed = (time.perf_counter() - began) * 1000
        if i > 0:
            samples.append(elapsed)
    return samples


def copy_in(container):
    # What a user writes: tar the file, then put_archive; the tar is built in a buffer, as the SDK wants bytes.
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


try:
    if CASE == "create":
        samples = timed(lambda: None, lambda _: start())
    elif CASE == "stop":
        samples = timed(start, lambda c: c.remove(force=True))
    elif CASE == "exec":
        box = start()
        samples = timed(lambda: box, lambda c: c.exec_run("true"))
    elif CASE == "copy-in":
        box = start()
        samples = timed(lambda: box, copy_in)
    elif CASE == "copy-out":
        box = start()
        copy_in(box)
        scratch = tempfile.mkdtemp(prefix="sandbox-bench-sdk-")
        samples = timed(lambda: (box, scratch), copy_out)
    elif CASE == "list":
        samples = timed(lambda: None, lambda _: client.containers.list(filters={"label": "io.sandbox.managed=true"}))
    else:
        raise SystemExit(f"unknown case {CASE}")
    print(json.dumps({"samples_ms": samples}))
finally:
    for container in made:
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass
