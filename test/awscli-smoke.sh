#!/usr/bin/env bash
# Smoke test with the real AWS CLI: start a Slipway server on a fresh data
# directory, create the user guide's sample pipeline with
# `aws codepipeline create-pipeline --cli-input-json`, read it back, check a
# typed error, do the same for a CodeDeploy application, and stop the
# server with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "awscli-smoke: FAIL: $*" >&2; exit 1; }
command -v aws >/dev/null || fail "the AWS CLI (aws) is not installed"

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/slipway" ./cmd/slipway

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
"$work/slipway" server --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 100); do
  curl -fsS "$endpoint/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$endpoint/healthz" >/dev/null || { cat "$work/stderr"; fail "server did not become healthy"; }

grep -q "AWS_SHARED_CREDENTIALS_FILE=$work/data/credentials" "$work/stdout" || fail "server did not print how to use the credentials"
[ "$(stat -c %a "$work/data/credentials")" = 600 ] || fail "credentials file is not mode 0600"

export AWS_SHARED_CREDENTIALS_FILE="$work/data/credentials" AWS_CONFIG_FILE="$work/data/config"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
cpl() { aws codepipeline --endpoint-url "$endpoint" "$@"; }

cpl create-pipeline --cli-input-json file://test/testdata/seed-sample-pipeline.json >"$work/created.json"
[ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["pipeline"]["version"])' <"$work/created.json")" = 1 ] || fail "create-pipeline did not return version 1"

name=$(cpl get-pipeline --name MyPipelineName --query pipeline.name --output text)
[ "$name" = MyPipelineName ] || fail "get-pipeline returned name '$name'"
stages=$(cpl get-pipeline --name MyPipelineName --query 'pipeline.stages[].name' --output text)
[ "$stages" = "Source	Beta" ] || fail "get-pipeline returned stages '$stages'"
arn=$(cpl get-pipeline --name MyPipelineName --query metadata.pipelineArn --output text)
[[ "$arn" == arn:aws:codepipeline:us-east-1:*:MyPipelineName ]] || fail "unexpected pipeline ARN '$arn'"
[ "$(cpl list-pipelines --query 'pipelines[].name' --output text)" = MyPipelineName ] || fail "list-pipelines"

# A typed error: the CLI prints the exception name from __type.
if cpl get-pipeline --name NoSuchPipeline 2>"$work/err"; then fail "get-pipeline of a missing pipeline succeeded"; fi
grep -q "(PipelineNotFoundException)" "$work/err" || { cat "$work/err"; fail "missing PipelineNotFoundException"; }
# The same pipeline again: name in use.
if cpl create-pipeline --cli-input-json file://test/testdata/seed-sample-pipeline.json 2>"$work/err" >/dev/null; then fail "duplicate create succeeded"; fi
grep -q "(PipelineNameInUseException)" "$work/err" || { cat "$work/err"; fail "missing PipelineNameInUseException"; }
# A bad signature is refused with the name the CLI knows.
if AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wrong aws codepipeline --endpoint-url "$endpoint" --region us-east-1 list-pipelines 2>"$work/err"; then fail "unknown key accepted"; fi
grep -q "(UnrecognizedClientException)" "$work/err" || { cat "$work/err"; fail "missing UnrecognizedClientException"; }

# CodeDeploy: an application, read back, and a typed error.
cdp() { aws deploy --endpoint-url "$endpoint" "$@"; }
cdp create-application --application-name SmokeApp >"$work/app.json"
grep -q '"applicationId"' "$work/app.json" || fail "create-application returned no applicationId"
appname=$(cdp get-application --application-name SmokeApp --query application.applicationName --output text)
[ "$appname" = SmokeApp ] || fail "get-application returned name '$appname'"
if cdp get-application --application-name Nope 2>"$work/err"; then fail "get-application of a missing application succeeded"; fi
grep -q "(ApplicationDoesNotExistException)" "$work/err" || { cat "$work/err"; fail "missing ApplicationDoesNotExistException"; }

kill -TERM "$pid"
wait "$pid" || fail "server exited with status $? after SIGTERM"
grep -q "shutting down" "$work/stderr" || fail "server did not log a graceful shutdown"
echo "awscli-smoke: 11 passed, 0 failed"
