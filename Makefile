# hark — the two commands a newcomer needs are `make demo` and `make test`.

GO      ?= go
BIN     ?= bin/hark
DATA    ?= hark-data

.PHONY: build test test-race demo lint fmt clean hydra

build:
	$(GO) build -o $(BIN) ./cmd/hark

## test: lint, then every test (real NATS, S3, SQLite in-process; PostgreSQL when HARK_TEST_POSTGRES is set).
test: lint
	$(GO) test -count=1 -timeout 20m ./...

## test-race: the packages with concurrency again under the race detector (needs cgo: gcc).
RACE_PKGS ?= ./pipeline ./ingest ./index ./web ./faults ./auth
test-race:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 30m $(RACE_PKGS)

## demo: build, start `hark up`, upload the role-play meetings, print the URL.
demo: build
	HARK_BIN=$(BIN) HARK_DATA_DIR=$(DATA) bash scripts/demo.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## hydra: build Ory Hydra (an OpenID provider, Apache-2.0) into bin/ for the single sign-on tests.
hydra:
	cd tools/hydra && $(GO) build -tags sqlite,sqlite_omit_load_extension -o ../../bin/hydra github.com/ory/hydra/v2

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
