"""Helpers shared by the benchmark scripts: run a function in a child process and read its
peak memory (ru_maxrss of that child alone), and set up Django."""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jinpin.settings")
    import django

    django.setup()


def in_child(script: str, *args) -> dict:
    """Run ``python script args`` and return the JSON it prints last, plus its peak RSS in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, script, *map(str, args)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; run the biggest last or trust the child's own figure
    result.setdefault("peak_mb", round(max(peak, before) / 1024, 1))
    return result


def own_peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
