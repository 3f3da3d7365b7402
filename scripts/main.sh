#!/usr/bin/env bash
# The main job: set up, train the default model on the default built-in task,
# and print its test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/apps/muroan/muroan train --task fashion-match --fusion gmu --out runs/fashion-match-gmu "$@"
