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
BUILD_DIR  := build/local
FUNCTIONS  := api decide notify grant revoke reconcile
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags=-s\ -w

export SAM_CLI_TELEMETRY := 0

.PHONY: dev test smoke bench build functions venv validate fuzz clean \
	build-ApiFunction build-DecideFunction build-NotifyFunction build-GrantFunction build-RevokeFunction build-ReconcileFunction reconcile

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

## dev: the whole system on this machine; Ctrl-C stops it
dev: $(MOTO_VENV)/.installed functions
	$(GO) run ./cmd/localcloud

## test: everything; installs what it needs first
test: $(MOTO_VENV)/.installed $(SAM_VENV)/.installed functions
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	bash test/smoke.sh
	$(MAKE) validate

smoke: $(MOTO_VENV)/.installed functions
	bash test/smoke.sh

## validate: the SAM template lints and builds (no Docker, no AWS account)
validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml
	$(SAM_VENV)/bin/sam build --build-in-source --template template.yaml --build-dir .aws-sam/build >/dev/null
	@echo "sam validate --lint and sam build: ok"

## bench: latency and lifecycle benchmarks on the local cloud
bench: $(MOTO_VENV)/.installed functions
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./test/... | tee build/bench.txt

## reconcile: run the reconciler once against `make dev` (no grace period)
reconcile:
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
	$(MOTO_VENV)/bin/python -c "import boto3,json; c=boto3.client('lambda', endpoint_url='http://127.0.0.1:4566'); print(c.invoke(FunctionName='ReconcileFunction', Payload=json.dumps({'grace_seconds': 0}))['Payload'].read().decode())"

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./shared/policy/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 20s ./shared/link/

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
