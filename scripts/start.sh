#!/usr/bin/env bash
# The main job on its embedded default: Redis, build, sample data, then list it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
npm run --silent build
cli() { node dist/cli/main.js "$@"; }
cli speakers import assets/sample/speakers.csv --as setup
cli quotes import assets/sample/quotes.csv --as setup
cli campaigns create assets/sample/campaign.json --as setup
cli quotes list
