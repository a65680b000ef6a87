#!/usr/bin/env bash
# Lighthouse scores of the sign-in page and a customer's dashboard, served as production serves
# them: gunicorn with DEBUG off and WhiteNoise's compressed, fingerprinted static files.
#
#   bench/lighthouse.sh [RUNS]        # default 3 runs per page; prints the median of each score
#
# Needs Debian's chromium (`apt-get install chromium`) and npm: Lighthouse 12 is installed once
# into var/lighthouse/npm. The product runs on a scratch SQLite database in var/lighthouse/
# (migrated, every example policy, seed_demo) on a free local port, and is stopped at the end.
# The dashboard is opened as the README's demo customer, signed in with curl: Lighthouse sends
# the session cookie with every request (--extra-headers). Reports (JSON) are kept in
# var/lighthouse/reports/. Each page is first run once more, uncounted: the first chromium start
# after a while runs from cold disk caches and blocks the page for long. Lighthouse's defaults
# apply: a mobile device, simulated slow 4G and a 4x slower CPU, so a loaded machine lowers the
# performance score; note `uptime` beside it.
#
# Environment: CHROME_PATH (default /usr/bin/chromium), LIGHTHOUSE_VERSION (default 12.8.2),
# DEMO_CUSTOMER (default alice@granite-logistics-openback-pro, the README's).
source "$(dirname "$0")/../bin/_setup.sh"
RUNS="${1:-3}"
PY=.venv/bin/python
WORK="$PWD/var/lighthouse"
LIGHTHOUSE_VERSION="${LIGHTHOUSE_VERSION:-12.8.2}"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
CUSTOMER="${DEMO_CUSTOMER:-alice@granite-logistics-openback-pro}"
PASSWORD=demo-pass-2026

[ -x "$CHROME_PATH" ] || { echo "bench/lighthouse.sh: no chromium at $CHROME_PATH (apt-get install chromium)" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "bench/lighthouse.sh: npm is missing (apt-get install npm)" >&2; exit 2; }
LH="$WORK/npm/node_modules/.bin/lighthouse"
if [ ! -x "$LH" ] || [ "$("$LH" --version)" != "$LIGHTHOUSE_VERSION" ]; then
  echo "==> Installing Lighthouse $LIGHTHOUSE_VERSION (npm) into $WORK/npm" >&2
  mkdir -p "$WORK/npm"
  (cd "$WORK/npm" && npm install --no-audit --no-fund --no-save --silent "lighthouse@$LIGHTHOUSE_VERSION")
fi

PORT="$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
export DEBUG=false LOG_FORMAT=plain LOG_LEVEL=WARNING WEB_ACCESS_LOG= WEB_BIND="127.0.0.1:$PORT"
export SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
export ALLOWED_HOSTS=127.0.0.1 SITE_URL="$BASE" EMAIL_URL=dummymail://
export DATABASE_URL="sqlite:///$WORK/db.sqlite3" STATIC_ROOT="$WORK/static" MEDIA_ROOT="$WORK/media"
unset REDIS_URL PROMETHEUS_MULTIPROC_DIR

echo "==> Scratch database and static files in $WORK" >&2
rm -rf "$WORK/db.sqlite3" "$WORK/static" "$WORK/reports" "$WORK/cookies"
mkdir -p "$WORK/reports"
quiet() {  # a command's output only when it fails
  local out
  out="$("$@" 2>&1)" || { echo "$out" >&2; return 1; }
}
quiet $PY manage.py migrate --no-input
quiet $PY manage.py load_policy examples/policies/*.yaml
quiet $PY manage.py seed_demo
quiet $PY manage.py collectstatic --no-input

server=""
stop() {
  trap - INT TERM EXIT
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap stop INT TERM EXIT
setsid .venv/bin/gunicorn -c deploy/gunicorn.conf.py helpdesk.wsgi:application &
server=$!
for _ in $(seq 1 60); do
  curl -fs -o /dev/null "$BASE/healthz" && break
  sleep 0.5
done

echo "==> Signing in as $CUSTOMER" >&2
jar="$WORK/cookies"
curl -fs -c "$jar" -b "$jar" -o /dev/null "$BASE/accounts/login/"
csrf="$(awk '$6 == "csrftoken" {print $7}' "$jar")"
curl -fs -c "$jar" -b "$jar" -o /dev/null -e "$BASE/accounts/login/" \
  --data-urlencode "csrfmiddlewaretoken=$csrf" --data-urlencode "username=$CUSTOMER" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" "$BASE/accounts/login/"
session="$(awk '$6 == "sessionid" {print $7}' "$jar")"
[ -n "$session" ] || { echo "bench/lighthouse.sh: signing in as $CUSTOMER failed" >&2; exit 1; }

run() {  # name path headers-json; run 0 warms the machine's caches up and is not counted
  for n in $(seq 0 "$RUNS"); do
    # A loaded machine now and then loses the trace (NO_NAVSTART): try that run again.
    for attempt in 1 2 3; do
      "$LH" "$BASE$2" --quiet --output=json --output-path="$WORK/reports/$1-$n.json" \
        --only-categories=performance,accessibility,best-practices,seo \
        --chrome-flags="--headless=new --no-sandbox --disable-gpu" --extra-headers="$3" && break
      [ "$attempt" = 3 ] && { echo "bench/lighthouse.sh: Lighthouse failed 3 times on $2" >&2; exit 1; }
      echo "==> Lighthouse failed on $2; again" >&2
    done
  done
}
echo "==> Lighthouse $LIGHTHOUSE_VERSION, $RUNS run(s) per page ($(uptime | sed 's/.*load/load/'))" >&2
run login /accounts/login/ '{}'
run dashboard / "{\"Cookie\": \"sessionid=$session\"}"

node - "$WORK/reports" "$RUNS" <<'JS'
const [dir, runs] = process.argv.slice(2);
const categories = ["performance", "accessibility", "best-practices", "seo"];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
console.log(["page".padEnd(10), ...categories.map((c) => c.padStart(15)), "  runs (performance)"].join(""));
for (const page of ["login", "dashboard"]) {
  const reports = [];
  for (let n = 1; n <= Number(runs); n++) reports.push(require(`${dir}/${page}-${n}.json`));
  const final = reports[0].finalDisplayedUrl;
  if (page === "dashboard" && final.includes("/accounts/login/")) throw new Error("not signed in: " + final);
  const scores = (c) => reports.map((r) => Math.round(r.categories[c].score * 100));
  console.log([page.padEnd(10), ...categories.map((c) => String(median(scores(c))).padStart(15)),
    "  " + scores("performance").join(" ")].join(""));
}
JS
