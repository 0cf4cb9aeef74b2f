"""Whatever MMS, the JVM or a library prints, the container's output stays one JSON object per line."""

import json
import os
import subprocess
import sys

from serving.json_output import as_json_line


def test_json_lines_pass_through_unchanged():
    line = b'{"time": "t", "level": "INFO", "logger": "handler", "message": "worker ready"}'
    assert as_json_line(line) == line + b"\n"


def test_plain_lines_are_wrapped_with_a_level():
    started = json.loads(as_json_line(b"Model server started."))
    assert started["message"] == "Model server started."
    assert started["level"] == "INFO"
    assert started["logger"] == "stdout"
    assert json.loads(as_json_line(b"WARNING: sun.reflect.Reflection.getCallerClass"))["level"] == "WARNING"
    assert json.loads(as_json_line(b"\xff broken utf-8"))["message"].endswith("broken utf-8")


def test_children_output_and_stderr_are_wrapped_and_nothing_is_lost():
    script = (
        "import os, subprocess, sys\n"
        "from serving.json_output import JsonOutput\n"
        "with JsonOutput():\n"
        '    print(\'{"message": "json"}\', flush=True)\n'
        "    subprocess.run(['sh', '-c', 'echo plain from child; echo to stderr >&2'])\n"
        "    print('last line, no newline', end='', flush=True)\n"
        "print('after')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True
    )
    lines = result.stdout.decode().splitlines()
    assert [json.loads(line)["message"] for line in lines[:-1]] == [
        "json",
        "plain from child",
        "to stderr",
        "last line, no newline",
    ]
    assert lines[-1] == "after"
