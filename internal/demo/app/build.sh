#!/bin/sh
# Renders src/ into site/ with the release number and the commit.
set -eu
release=$(cat RELEASE)
case $release in
  ''|*[!0-9A-Za-z._-]*) echo "RELEASE must hold letters, digits, '.', '_' or '-', not '$release'" >&2; exit 1 ;;
esac
commit=${CODEBUILD_RESOLVED_SOURCE_VERSION:-local}
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rm -rf site
mkdir -p site
sed -e "s|@RELEASE@|$release|g" -e "s|@COMMIT@|$commit|g" -e "s|@BUILT@|$built|g" src/index.html > site/index.html
cp src/style.css site/style.css
printf 'release=%s\ncommit=%s\n' "$release" "$commit" > site/version.txt
echo "built site/ for release $release (commit $commit)"
