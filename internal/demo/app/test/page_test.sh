#!/bin/sh
# Checks the page build.sh made and writes the results to reports/junit.xml
# (JUnit XML), the report group of buildspec.yml.
set -u
mkdir -p reports
pass=0
fail=0
cases=
check() {
  name=$1
  shift
  if "$@" >/dev/null 2>&1; then
    pass=$((pass + 1))
    cases="$cases<testcase classname=\"page\" name=\"$name\"/>"
    echo "ok   $name"
  else
    fail=$((fail + 1))
    cases="$cases<testcase classname=\"page\" name=\"$name\"><failure message=\"$name\"/></testcase>"
    echo "FAIL $name"
  fi
}
release=$(cat RELEASE)
check "the page exists" test -s site/index.html
check "the page shows the release" grep -q "id=\"release\">$release<" site/index.html
check "no placeholder is left" sh -c '! grep -q "@[A-Z]*@" site/index.html'
check "the stylesheet is linked and present" sh -c 'grep -q "href=\"style.css\"" site/index.html && test -s site/style.css'
check "version.txt names the release" grep -qx "release=$release" site/version.txt
total=$((pass + fail))
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="page" tests="%d" failures="%d">%s</testsuite>\n' "$total" "$fail" "$cases" > reports/junit.xml
echo "$pass of $total page tests passed"
[ "$fail" -eq 0 ]
