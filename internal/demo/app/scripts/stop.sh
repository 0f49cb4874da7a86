#!/bin/sh
# ApplicationStop: stop the release that is running. CodeDeploy runs this
# hook with the previous revision's scripts; on a first install it does
# not run at all.
set -eu
STATE="${SLIPWAY_INSTALL_ROOT:-}/var/lib/demo-app"
if [ -f "$STATE/running" ]; then
  mv "$STATE/running" "$STATE/stopped"
  echo "stopped: $(tr '\n' ' ' < "$STATE/stopped")"
else
  echo "nothing is running"
fi
