# jit: just-in-time AWS access approval.
#   make dev    bring the whole system up locally (moto + local Lambda + HTTP API)
#   make test   run every test (unit, integration against the emulator, end to end)
#   make bench  run the benchmarks on the local cloud
#   make lint-aws  the third-party validators (cfn-lint, asl-validator,
#               parliament, checkov, gosec, govulncheck)

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
	$(MAKE) lint-aws
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

## lint-aws: third-party validators, each pinned and installed under .tools/
## (virtualenvs, node_modules, Go binaries; none needs Docker, AWS or Docker Hub):
##   cfn-lint       template.yaml and infra/*.yaml (SAM transform included)
##   asl-validator  each state machine with its DefinitionSubstitutions filled
##   parliament     every IAM policy of the template (SAM's generated roles and
##                  policy templates expanded) and the policies the grant code
##                  writes; suppressions with reasons in test/lint/parliament-suppressions.yaml
##   checkov        template.yaml and infra/*.yaml; skips with reasons in place
##                  (each resource's Metadata.checkov.skip)
##   gosec          the Go code; exclusions with reasons below, #nosec needs a rule and a reason
##   govulncheck    the Go code and its modules, when the vulnerability database answers
TOOLS        := .tools
LINT_VENV    := $(TOOLS)/lint
CHECKOV_VENV := $(TOOLS)/checkov
NODE_TOOLS   := $(TOOLS)/node
GO_TOOLS     := $(CURDIR)/$(TOOLS)/bin
LINT_OUT     := build/lint
GOSEC_VERSION       := v2.30.0
GOVULNCHECK_VERSION := v1.9.0
VULNDB       ?= https://vuln.go.dev
CFN_TEMPLATES := template.yaml $(wildcard infra/*.yaml)

# gosec findings that are not defects, by path (regular expression) and rule.
# Everything else gosec reports fails the build.
#   G204 subprocess with a variable: the local cloud starts moto, go build and
#        the function binaries it built (shared/local); jit exec runs the
#        command its user gave, and jit audit open the platform's URL opener
#        (cmd/jit).
#   G304 file path from a variable: the local cloud reads the template, state
#        machine definitions and configs it is pointed at; jit reads the
#        policy file its user names.
#   G704 HTTP request to a variable URL: the local cloud's clients talk to
#        its own loopback servers (shared/local/cloud, and a test fixture
#        function under shared/local/runner/testdata).
#   G104 unchecked error: Close/RemoveAll on the local cloud's shutdown
#        paths (nothing left to do on failure); jit's terminal tables
#        (tabwriter Flush into a buffer or stdout, like every fmt.Fprint);
#        fnv's Write, which never fails (shared/store/keys.go).
#   G404 math/rand: jitter between retries (shared/store, shared/grant),
#        not a secret; tokens use crypto/rand. The synthetic trail
#        (shared/local/trail) is seeded so that it repeats.
#   G115 int -> int32: a Query Limit bounded by the page size
#        (shared/store/audit.go), and PITR's RecoveryPeriodInDays, 1..35
#        (shared/local/provision/table.go).
#   G101 "credentials": the name of the x-amz-security-token header
#        (shared/local/sigv4/sigv4.go).
#   G103 unsafe: the TIOCGWINSZ ioctl that reads the terminal width
#        (cmd/jit/term_unix.go).
GOSEC_EXCLUDES := \
	shared/local/.*:G204,G304,G704,G104 \
	cmd/localcloud/.*:G104 \
	cmd/jit/.*:G204,G304,G104 \
	cmd/jit/term_unix\.go:G103 \
	shared/store/(lease|transitions)\.go:G404 \
	shared/grant/identitycenter\.go:G404 \
	shared/local/trail/trail\.go:G404 \
	shared/store/keys\.go:G104 \
	shared/store/audit\.go:G115 \
	shared/local/provision/table\.go:G115 \
	shared/local/sigv4/sigv4\.go:G101

empty :=
space := $(empty) $(empty)

.PHONY: lint-aws lint-tools lint-cfn lint-asl lint-iam lint-checkov lint-gosec lint-govulncheck
lint-aws: lint-cfn lint-asl lint-iam lint-checkov lint-gosec lint-govulncheck
	@echo "lint-aws: ok"

lint-tools: $(LINT_VENV)/.installed $(CHECKOV_VENV)/.installed $(NODE_TOOLS)/.installed \
	$(GO_TOOLS)/gosec $(GO_TOOLS)/govulncheck

$(LINT_VENV)/.installed: infra/local/requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(CHECKOV_VENV)/.installed: infra/local/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(NODE_TOOLS)/.installed: infra/local/asl-validator/package.json infra/local/asl-validator/package-lock.json
	mkdir -p $(NODE_TOOLS)
	cp $^ $(NODE_TOOLS)/
	npm ci --silent --no-audit --no-fund --prefix $(NODE_TOOLS)
	touch $@

$(GO_TOOLS)/gosec: Makefile
	GOBIN=$(GO_TOOLS) $(GO) install github.com/securego/gosec/v2/cmd/gosec@$(GOSEC_VERSION)
	touch $@

$(GO_TOOLS)/govulncheck: Makefile
	GOBIN=$(GO_TOOLS) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	touch $@

## lint-docs: the documents the validators read, generated from the code and
## the template (substituted state machines, the grant code's policies, the
## template's policies after the SAM transform)
.PHONY: lint-docs
lint-docs: $(LINT_VENV)/.installed $(MOTO_VENV)/.installed
	rm -rf $(LINT_OUT)
	$(GO) run ./cmd/lintdocs -root . -out $(LINT_OUT)
	$(LINT_VENV)/bin/python test/lint/template_policies.py template.yaml $(LINT_OUT)/policies

lint-cfn: $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/cfn-lint $(CFN_TEMPLATES)
	@echo "cfn-lint $(CFN_TEMPLATES): ok"

lint-asl: $(NODE_TOOLS)/.installed lint-docs
	@for f in $(LINT_OUT)/statemachine/*.asl.json; do \
		$(NODE_TOOLS)/node_modules/.bin/asl-validator --json-path "$$f" || exit 1; \
	done

lint-iam: $(LINT_VENV)/.installed lint-docs
	$(LINT_VENV)/bin/python test/lint/iam_policies.py test/lint/parliament-suppressions.yaml \
		$(LINT_OUT)/policies $(LINT_OUT)/grant

lint-checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		$(addprefix -f ,$(CFN_TEMPLATES))
	@echo "checkov $(CFN_TEMPLATES): ok"

lint-gosec: $(GO_TOOLS)/gosec
	$(GO_TOOLS)/gosec -quiet -nosec-require-rules -nosec-require-justification \
		-exclude-rules='$(subst $(space),;,$(strip $(GOSEC_EXCLUDES)))' ./...
	@echo "gosec: ok"

# An unreachable vulnerability database (no network, a proxy) is said, not
# failed: the check did not run. A reachable one with findings fails.
lint-govulncheck: $(GO_TOOLS)/govulncheck
	@if curl -sSf --max-time 10 -o /dev/null "$(VULNDB)/index/db.json" 2>/dev/null || \
		[ -f "$${VULNDB#file://}/index/db.json" ]; then \
		$(GO_TOOLS)/govulncheck -db "$(VULNDB)" ./...; \
	else \
		echo "govulncheck: NOT RUN - the vulnerability database $(VULNDB) cannot be reached from this machine"; \
	fi

## bench: lifecycle latencies, API latency and throughput, AWS calls per request,
## binary sizes and cold starts, on the local cloud; writes bench/results.json and
## bench/RESULTS.md; then audit lag on a large synthetic trail (bench/audit-lag.json,
## bench/AUDIT-LAG.md) (not part of make test; builds the functions itself)
bench: $(MOTO_VENV)/.installed
	@mkdir -p build
	set -o pipefail; $(GO) test -count=1 -v -run '^TestBench$$' -bench . -benchtime 220x -benchmem -timeout 14m \
		./test/bench/ -args -out ../../bench 2>&1 | tee build/bench.txt
	set -o pipefail; $(GO) test -count=1 -v -timeout 20m ./test/auditlag/ -args -out ../../bench 2>&1 | tee build/auditlag.txt

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
