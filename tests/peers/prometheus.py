"""A real Prometheus (Debian's package) on a loopback port, with its own config and
data directory, scraping the targets it is given every second; asked through its HTTP
API. Stopped by its pid."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Self

from tests.peers.net import free_port, wait_until
from tests.peers.process import Peer


class Prometheus(Peer):
    grace_s = 10.0

    def __init__(self, workdir: Path, targets: list[str]) -> None:
        self.workdir = workdir / "prometheus"
        self.port = free_port()
        self.targets = targets
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        return json.dumps(  # YAML is a superset of JSON
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                "scrape_configs": [
                    {"job_name": "swarmgauge", "static_configs": [{"targets": self.targets}]}
                ],
            }  # fmt: skip
        )

    def start(self) -> Self:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("no prometheus (apt-get install prometheus)")
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "prometheus.yml"
        conf.write_text(self.config())
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={conf}", f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        if not wait_until(self._ready, 30):
            self.stop()
            raise RuntimeError(f"prometheus did not get ready: {self.log_tail()}")
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=5) as r:
            answer = json.loads(r.read())
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
        """An instant query: {labels (without __name__, job, instance): value}."""
        found = {}
        for series in self.api("query", query=expr)["result"]:
            labels = tuple(sorted((k, v) for k, v in series["metric"].items()
                                  if k not in ("__name__", "job", "instance")))  # fmt: skip
            found[labels] = float(series["value"][1])
        return found
