"""`python -m bench.site_server`: the Backstay server (app.server), serving the pages and code
of the folder $BENCH_SITE (bench.site builds it) instead of this checkout."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from app.server.__main__ import serve
from app.server.config import Config


def main() -> int:
    config = dataclasses.replace(Config.from_env(os.environ), project_root=Path(os.environ["BENCH_SITE"]))
    return serve(config)


if __name__ == "__main__":
    sys.exit(main())
