#!/bin/sh
# ApplicationStart: mark the installed release as running, with this
# deployment's ID.
set -eu
STATE="${SLIPWAY_INSTALL_ROOT:-}/var/lib/demo-app"
{
  echo "deployment=$DEPLOYMENT_ID"
  cat "$STATE/version"
} > "$STATE/running.tmp"
mv "$STATE/running.tmp" "$STATE/running"
echo "started: $(tr '\n' ' ' < "$STATE/running")"
