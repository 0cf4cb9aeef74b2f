"""Noise: CPU used on the host by processes that are not this bench's own (not its children)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.noise import Noise

BURN = "import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end: pass"


def test_a_process_outside_the_bench_tree_counts_as_noise(tmp_path):
    # The shell exits at once, so the burner is re-parented away from this process: a stranger's load.
    pid_file = tmp_path / "pid"
    noise = Noise().start()
    subprocess.run(["sh", "-c", f"{sys.executable} -c '{BURN}' & echo $! > {pid_file}"], check=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and subprocess.run(["kill", "-0", pid_file.read_text().strip()]).returncode == 0:
        time.sleep(0.05)
    # 1.5 CPU seconds burnt by a stranger over the window (plus whatever else the host ran).
    window = time.monotonic() - noise._wall
    assert noise.cores() * window >= 1.2
