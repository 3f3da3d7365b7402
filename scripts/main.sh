#!/usr/bin/env bash
# The main job: set up, then train the default fusions on the built-in
# fashion-match task, attack each with each default method, and write
# runs/analyze-fashion-match/ (summary.json, tables/*.csv, per-sample JSONL,
# report.html). Extra arguments go to `muroan analyze`.
set -euo pipefail
cd "$(dirname "$0")/.."
MUROAN_BUILD_TARGETS=muroan scripts/setup.sh  # the program only, not the tests
build/apps/muroan/muroan analyze --task fashion-match --out runs/analyze-fashion-match "$@"
echo "report: runs/analyze-fashion-match/report.html"
