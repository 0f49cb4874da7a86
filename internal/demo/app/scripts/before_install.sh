#!/bin/sh
# BeforeInstall: prepare the state directory and record the deployment.
set -eu
STATE="${SLIPWAY_INSTALL_ROOT:-}/var/lib/demo-app"
mkdir -p "$STATE"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $DEPLOYMENT_ID $DEPLOYMENT_GROUP_NAME" >> "$STATE/history.log"
echo "deployment $DEPLOYMENT_ID of $APPLICATION_NAME to $DEPLOYMENT_GROUP_NAME"
