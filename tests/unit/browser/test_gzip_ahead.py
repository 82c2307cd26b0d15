"""static/backstay/gzip.mjs: a body compressed ahead on the helper thread is used only for a
gzip of exactly its bytes, at most once; any failure of the helper (no worker, a failed
hand-over, a crash, an error answered, no answer in time) means the bytes are compressed where
they are, never a missing or wrong blob; a snapshot reader closed after a failure stops reading
ahead and hands nothing more over. Run in node with a stand-in for the browser's Worker (the real one is
exercised by e2e/test_capture.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parent / "js" / "gzip_ahead.mjs"


def test_compressing_ahead_is_used_once_and_every_failure_falls_back() -> None:
    node = shutil.which("node")
    assert node is not None, "node is installed by `make test` (npm ci)"
    done = subprocess.run([node, str(SCRIPT)], capture_output=True, text=True, timeout=120, check=True)
    found = {line["case"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert found["works"] == {"case": "works", "used": 1, "restored": True, "otherRestored": True}
    for failing in ("refused", "postMessage throws", "crashes", "answers an error", "never answers"):
        assert found[failing] == {"case": failing, "used": 0, "restored": True, "otherRestored": True}
    assert found["small"] == {"case": "small", "used": 0, "restored": True}
    assert found["forgotten"] == {"case": "forgotten", "used": 0, "restored": True}
    # A reader closed after a failed read stops fetching ahead and hands nothing over.
    assert found["closed reader"] == {"case": "closed reader", "status": 500, "helpers": 0, "used": 0}
