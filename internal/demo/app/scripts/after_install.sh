#!/bin/sh
# AfterInstall: the new files are in place; record which release they are.
set -eu
APP="${SLIPWAY_INSTALL_ROOT:-}/srv/demo-app"
STATE="${SLIPWAY_INSTALL_ROOT:-}/var/lib/demo-app"
if [ ! -s "$APP/version.txt" ]; then
  echo "$APP/version.txt is missing: was the site built?" >&2
  exit 1
fi
cp "$APP/version.txt" "$STATE/version"
echo "installed $(tr '\n' ' ' < "$STATE/version")"
