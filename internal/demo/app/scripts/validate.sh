#!/bin/sh
# ValidateService: the page in place is the release this deployment
# installed and started; anything else fails the deployment.
set -eu
APP="${SLIPWAY_INSTALL_ROOT:-}/srv/demo-app"
STATE="${SLIPWAY_INSTALL_ROOT:-}/var/lib/demo-app"
fail() {
  echo "validation failed: $*" >&2
  exit 1
}
[ -f "$STATE/running" ] || fail "nothing is running"
grep -qx "deployment=$DEPLOYMENT_ID" "$STATE/running" || fail "the running release is not deployment $DEPLOYMENT_ID's"
release=$(sed -n 's/^release=//p' "$STATE/version")
commit=$(sed -n 's/^commit=//p' "$STATE/version")
grep -q "id=\"release\">$release<" "$APP/index.html" || fail "$APP/index.html does not show release $release"
grep -q "id=\"commit\">$commit<" "$APP/index.html" || fail "$APP/index.html does not show commit $commit"
echo "validated release $release (commit $commit) in $APP"
