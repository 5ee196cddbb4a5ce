"""python -m tests.servers.pacer [port]: the local PACER on the command line."""
from .server import PacerServer


if __name__ == "__main__":  # python -m tests.servers.pacer [port]
    import sys
    import time

    with PacerServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0) as _pacer:
        for _name, _value in _pacer.settings().items():
            print("%s=%s" % (_name, _value))
        print("login: user / pass; Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
