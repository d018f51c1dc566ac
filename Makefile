# jit: just-in-time AWS access approval.
#   make dev    bring the whole system up locally (moto + local Lambda + HTTP API)
#   make test   run every test (unit, integration against the emulator, end to end)
#   make bench  run the benchmarks on the local cloud

SHELL      := /bin/bash
GO         ?= go
PYTHON     ?= python3
VENV       := .venv
MOTO_VENV  := $(VENV)/moto
SAM_VENV   := $(VENV)/sam
ST_VENV    := $(VENV)/schemathesis
BUILD_DIR  := build/local
FUNCTIONS  := api decide notify grant revoke reconcile
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags=-s\ -w

export SAM_CLI_TELEMETRY := 0
export SCHEMATHESIS_TELEMETRY := false

.PHONY: dev test smoke bench build functions venv validate fuzz clean \
	build-ApiFunction build-DecideFunction build-NotifyFunction build-GrantFunction build-RevokeFunction build-ReconcileFunction reconcile

.PHONY: fuzz-short contract

## venv: project virtualenvs (moto server; SAM CLI in its own, as it pins its deps)
venv: $(MOTO_VENV)/.installed $(SAM_VENV)/.installed

$(MOTO_VENV)/.installed: infra/local/requirements-moto.txt
	$(PYTHON) -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(SAM_VENV)/.installed: infra/local/requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(ST_VENV)/.installed: infra/local/requirements-schemathesis.txt
	$(PYTHON) -m venv $(ST_VENV)
	$(ST_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

## chromium: the headless browser test/browser drives (Debian/Ubuntu package;
## the tests skip without it, except when CI is set)
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		command -v google-chrome >/dev/null 2>&1 || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

## functions: the Lambda bootstraps for this machine, as the local cloud runs them
functions:
	@for f in $(FUNCTIONS); do \
		CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o $(BUILD_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	done

build: functions
	$(GO) build -o build/bin/localcloud ./cmd/localcloud
	CGO_ENABLED=0 $(GO) build -o build/bin/jit ./cmd/jit

## dev: the whole system on this machine; Ctrl-C stops it
dev: $(MOTO_VENV)/.installed functions
	$(GO) run ./cmd/localcloud

## test: everything; installs what it needs first
test: $(MOTO_VENV)/.installed $(SAM_VENV)/.installed functions
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	bash test/smoke.sh
	$(MAKE) validate
	$(MAKE) validate-compliance
	$(MAKE) fuzz-short
	$(MAKE) contract

smoke: $(MOTO_VENV)/.installed functions
	bash test/smoke.sh

## validate: the SAM template lints and builds (no Docker, no AWS account)
validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(SAM_VENV)/bin/sam build --build-in-source --template template.yaml --build-dir .aws-sam/build >/dev/null
	@echo "sam validate --lint and sam build: ok"

## validate-compliance: infra/compliance.yaml (Glue, Athena) lints with cfn-lint
.PHONY: validate-compliance
validate-compliance: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/cfn-lint infra/compliance.yaml
	@echo "cfn-lint infra/compliance.yaml: ok"

## bench: lifecycle latencies, API latency and throughput, AWS calls per request,
## binary sizes and cold starts, on the local cloud; writes bench/results.json and
## bench/RESULTS.md (not part of make test; builds the functions itself)
bench: $(MOTO_VENV)/.installed
	@mkdir -p build
	set -o pipefail; $(GO) test -count=1 -v -run '^TestBench$$' -bench . -benchtime 220x -benchmem -timeout 14m \
		./test/bench/ -args -out ../../bench 2>&1 | tee build/bench.txt

## reconcile: run the reconciler once against `make dev` (no grace period)
reconcile:
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
	$(MOTO_VENV)/bin/python -c "import boto3,json; c=boto3.client('lambda', endpoint_url='http://127.0.0.1:4566'); print(c.invoke(FunctionName='ReconcileFunction', Payload=json.dumps({'grace_seconds': 0}))['Payload'].read().decode())"

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./shared/policy/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./shared/link/

## fuzz-short: every fuzz target for FUZZ_TIME each (5 x 10s in make test);
## a crasher fails the run and is saved under the package's testdata/fuzz/
FUZZ_TIME    ?= 10s
FUZZ_TARGETS := ./shared/api:FuzzCreateRequest ./shared/decision:FuzzHandle \
	./shared/policy:FuzzParse ./shared/link:FuzzParse ./shared/local/sigv4:FuzzVerify \
	./shared/audit:FuzzParseQuery ./shared/untrusted:FuzzLine
# Go's fuzzing engine can end a time-bounded run with a bare "context
# deadline exceeded" when the clock runs out while a worker is busy; with no
# failing input written that is not a finding, so that target runs once more.
fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t##*:} ($${t%%:*}) for $(FUZZ_TIME)"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZ_TIME) -fuzzminimizetime 5s "$${t%%:*}" 2>&1); rc=$$?; \
		echo "$$out" | tail -3; \
		if [ $$rc -ne 0 ]; then \
			if echo "$$out" | grep -q "context deadline exceeded" && ! echo "$$out" | grep -q "Failing input written"; then \
				echo "fuzz engine stopped on its deadline without a failing input; running $${t##*:} again"; \
				$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZ_TIME) -fuzzminimizetime 5s "$${t%%:*}" || exit 1; \
			else \
				echo "$$out"; exit 1; \
			fi; \
		fi; \
	done

## contract: schemathesis against the local cloud, from docs/openapi.yaml, through
## a SigV4-signing proxy (test/contract); ST_EXAMPLES examples per operation
ST_EXAMPLES ?= 30
contract: $(MOTO_VENV)/.installed $(ST_VENV)/.installed
	@mkdir -p build
	JIT_SCHEMATHESIS=$(CURDIR)/$(ST_VENV)/bin/schemathesis JIT_SCHEMATHESIS_EXAMPLES=$(ST_EXAMPLES) \
		$(GO) test -count=1 -run '^TestSchemathesis$$' -v ./test/contract/ 2>&1 | tee build/contract.txt | grep -E '^(---|ok|FAIL|PASS)|generated|Failures|❌|ST[0-9]{3}'; \
		exit $${PIPESTATUS[0]}

# SAM (BuildMethod: makefile) calls these with ARTIFACTS_DIR set; AWS runs arm64.
build-ApiFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api
build-DecideFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/decide
build-NotifyFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/notify
build-GrantFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/grant
build-RevokeFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/revoke
build-ReconcileFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/reconcile

clean:
	rm -rf build .aws-sam
