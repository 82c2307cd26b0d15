"""`python -m app.server`: run the local Spark KV server on 127.0.0.1:$BACKSTAY_PORT."""

from __future__ import annotations

import os
import socket
import sys

import uvicorn

from app.server.app import create_app
from app.server.config import Config, ConfigError
from app.server.faults import Faults


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the URL once the socket is actually listening, and that
    releases requests held by a test fault when it stops (uvicorn waits for every open request)."""

    def __init__(self, config: uvicorn.Config, faults: Faults | None) -> None:
        super().__init__(config)
        self._faults = faults

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.servers:
            port = self.servers[0].sockets[0].getsockname()[1]
            url = f"http://{self.config.host}:{port}/"
            print(f"\nBackstay is running at {url}  (Ctrl+C stops it)\n", flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._faults is not None:
            self._faults.release_all()
        await super().shutdown(sockets=sockets)


def main() -> int:
    try:
        config = Config.from_env(os.environ)
    except ConfigError as problem:
        print(f"backstay: {problem}", file=sys.stderr)
        return 2
    return serve(config)


def serve(config: Config) -> int:
    """Run the server of ``config`` until it is stopped; 0 once it has served, 1 if it never
    started (the port taken, say)."""
    # A thread that waits for the GIL asks for it after this long (default 5 ms). While a large
    # value is checked in the thread pool, a small request needs the GIL several times over;
    # 1 ms keeps it answered in a few ms rather than tens.
    sys.setswitchinterval(0.001)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"Backstay data: {config.database_path.resolve()}", flush=True)
    app = create_app(config)
    server = _AnnouncingServer(
        uvicorn.Config(app, host=config.host, port=config.port, log_level="info", access_log=False),
        app.state.faults,
    )
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after a clean shutdown
        pass
    print("Backstay stopped.", flush=True)
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
