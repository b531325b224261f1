#!/usr/bin/env bash
# Every mutant of tools/mutants.txt applies to this tree: its snippet occurs
# exactly once in its file (a refactor that moves the code must move the
# mutant too, or the mutation score silently shrinks).
set -euo pipefail
python3 tools/mutants.py tools/mutants.txt check .
