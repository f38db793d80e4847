"""A real SMTP server for the tests (aiosmtpd), run as its own process so its asyncio loop
stays out of the eventlet-patched test process: ``python smtp_sink.py PORT DIR [DELAY]``
saves each message as DIR/<n>.eml; DELAY seconds of stalling before every DATA reply make it
a slow server."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: str, delay: float):
        self.directory = directory
        self.delay = delay
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            await asyncio.sleep(self.delay)
        n = next(self.counter)
        tmp = os.path.join(self.directory, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(tmp, os.path.join(self.directory, f"{n}.eml"))
        return "250 Message accepted for delivery"


def main() -> None:
    port, directory = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    controller = Controller(Sink(directory, delay), hostname="127.0.0.1", port=port)
    controller.start()
    open(os.path.join(directory, ".ready"), "w").close()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
