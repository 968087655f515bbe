#!/usr/bin/env bash
# The main job on its embedded default: a local Redis, the sample campaign rendered and waiting for
# review, and every role (API, review page, workers, scheduler) in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-redis.sh
npm run --silent build
cli() { node dist/cli/main.js "$@"; }

if [ "$(cli campaigns list --json)" = "[]" ]; then
  echo "== empty store: importing the sample data"
  cli speakers import assets/sample/speakers.csv --as demo-staff
  cli quotes import assets/sample/quotes.csv --as demo-staff
  cli campaigns create assets/sample/campaign.json --as demo-staff
  for id in $(cli quotes list --state pending --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(q=>q.id).join(" ")))'); do
    cli quotes vet "$id" --as demo-staff --note "sample data, vetted for the demo"
  done
fi
cli users list --json | grep -q '"id": "demo-staff"' || cli users add demo-staff --role staff --as setup >/dev/null
cli users list --json | grep -q '"id": "demo-reviewer"' || cli users add demo-reviewer --role reviewer --as setup >/dev/null
cli users list --json | grep -q '"id": "demo-admin"' || cli users add demo-admin --role admin --as setup >/dev/null

echo "== queueing the sample campaign as demo-staff"
cli queue why-they-left --as demo-staff --no-wait

port="${PORT:-8080}"; host="${HOST:-127.0.0.1}"
echo
echo "Review page:  http://$host:$port/review   (sign in with the reviewer token below)"
echo "Reviewer token (demo-reviewer): $(cli users token demo-reviewer --as setup | sed 's/.*token: //')"
echo "Admin token (demo-admin, for /admin/queues): $(cli users token demo-admin --as setup | sed 's/.*token: //')"
echo "After approving cards: node dist/cli/main.js export why-they-left --now --as demo-reviewer"
echo
exec node dist/cli/main.js start
