"""A test that measures the machine (the class-at-once load test) runs alone: the suite's
other worker waits between its own tests until it is done. Every other test holds the room
shared; the lone test holds it alone. The gate in front of the room gives the lone test its
turn: once it waits at the gate, no new test enters, so it is not starved by a stream of
short tests that always overlap."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOM_ENV = "NP_TEST_ROOM"  # the folder of the run's two lock files, made by ``open_room``


def open_room() -> Path:
    """The folder for this test run's locks; the workers started after this share it."""
    if not os.environ.get(ROOM_ENV):
        os.environ[ROOM_ENV] = tempfile.mkdtemp(prefix="neural-playground-room-")
    return Path(os.environ[ROOM_ENV])


def close_room() -> None:
    shutil.rmtree(os.environ.pop(ROOM_ENV, ""), ignore_errors=True)


def _lock_file(name: str) -> int:
    return os.open(open_room() / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)


@contextmanager
def _held(fd: int, how: int) -> Iterator[None]:
    fcntl.flock(fd, how)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def room(alone: bool) -> Iterator[None]:
    """Hold the machine shared with the other worker's tests, or ``alone``."""
    gate, room_fd = _lock_file("gate"), _lock_file("room")
    try:
        if alone:
            with _held(gate, fcntl.LOCK_EX), _held(room_fd, fcntl.LOCK_EX):
                yield
        else:
            with _held(gate, fcntl.LOCK_EX):
                fcntl.flock(room_fd, fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(room_fd, fcntl.LOCK_UN)
    finally:
        os.close(gate)
        os.close(room_fd)
