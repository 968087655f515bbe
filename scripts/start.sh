#!/usr/bin/env bash
# The main job on its embedded default: a local Redis, the sample campaign rendered and waiting for
# review, and every role (API, review page, workers, scheduler) in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
npm run --silent build
cli() { node dist/cli/main.js "$@"; }

# Demo accounts: made (or given a fresh token) by the operator, who holds the Redis URL.
token_of() {
  local name="$1" role="$2" line
  if cli users list --json | grep -q "\"id\": \"$name\""; then
    line="$(cli users token "$name")"
  else
    line="$(cli users add "$name" --role "$role")"; line="${line%%$'\n'*}"
  fi
  echo "${line##*token: }"
}
STAFF_TOKEN="$(token_of demo-staff staff)"
REVIEWER_TOKEN="$(token_of demo-reviewer reviewer)"
ADMIN_TOKEN="$(token_of demo-admin admin)"
staff() { TESTIMONY_TOKEN="$STAFF_TOKEN" cli "$@"; }

# The campaign is created last, so a start interrupted half-way imports and vets the rest next time.
if [ "$(cli campaigns list --json)" = "[]" ]; then
  echo "== empty store: importing the sample data as demo-staff"
  staff speakers import assets/sample/speakers.csv
  staff quotes import assets/sample/quotes.csv
  for id in $(cli quotes list --state pending --all --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(q=>q.id).join(" ")))'); do
    staff quotes vet "$id" --note "sample data, vetted for the demo"
  done
  staff campaigns create assets/sample/campaign.json
fi

echo "== queueing the sample campaign as demo-staff"
staff queue why-they-left --no-wait

port="${PORT:-8080}"; host="${HOST:-127.0.0.1}"
echo
echo "Review page:  ${PUBLIC_URL:-http://$host:$port}/review   (sign in with the reviewer token below)"
echo "Reviewer token (demo-reviewer): $REVIEWER_TOKEN"
echo "Admin token (demo-admin, for /admin/queues): $ADMIN_TOKEN"
echo "Staff token (demo-staff, imports, queues and drops): $STAFF_TOKEN"
echo "After approving cards, drop them now as demo-staff:"
echo "  TESTIMONY_TOKEN=$STAFF_TOKEN node dist/cli/main.js export why-they-left --now"
echo
exec node dist/cli/main.js start
