"""A real SMTP server for greenplan's tests (aiosmtpd, from PyPI; .ci/run installs it).

    python3 tests/smtp/sink.py --port PORT --dir DIR [--refuse]

Listens on 127.0.0.1:PORT and writes each message it accepts to DIR as NNNN.eml (written
under another name and renamed, so a reader never sees half a message). Every DATA command
it receives, accepted or refused, adds a line to DIR/attempts.log. With --refuse it answers
every message with 451 (a temporary failure), as a mail server that is down for a moment
does. Prints "ready" once listening; runs until killed.
"""

import argparse
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            with open(os.path.join(self.out, "attempts.log"), "a") as log:
                log.write(" ".join(envelope.rcpt_tos) + "\n")
            if self.refuse:
                return "451 4.3.0 Mail server busy: try again later"
            self.count += 1
            name = os.path.join(self.out, "%04d.eml" % self.count)
            with open(name + ".part", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            os.rename(name + ".part", name)
        return "250 2.0.0 Accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir, args.refuse), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
