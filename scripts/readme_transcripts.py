"""Regenerate the README's transcripts from evals/transcripts/readme.yaml, or check them.

Each transcript is played on a fresh demo world with the local planner (offline) and graded like
an eval task; the README section between the transcript markers is rewritten from the play:

    python scripts/readme_transcripts.py          # rewrite the section in README.md
    python scripts/readme_transcripts.py --check  # exit 1 if a transcript differs or fails
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.docs import README, differences, play, replace_section, section  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cockpit" / "evals")
    args = parser.parse_args()
    played = play(cache=args.cache)
    failed = [f"{p.task.id}: {'; '.join(p.reasons)}" for p in played if not p.passed]
    document = README.read_text(encoding="utf-8")
    if args.check:
        stale = differences(document, played)
        for caption in stale:
            print(f"README transcript differs from a fresh play: {caption}")
        for line in failed:
            print(f"transcript task fails: {line}")
        return 1 if stale or failed else 0
    README.write_text(replace_section(document, section(played)), encoding="utf-8")
    for line in failed:
        print(f"transcript task fails (written anyway): {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
