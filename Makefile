# trackhook: the two commands are `make run` and `make test`.

GO      ?= go
BIN     ?= ./trackhook
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# `make run` signs nothing for you: it only gives the AfterShip source a
# development secret when you have not set one, so the walkthrough in
# README.md works. Never use it for real traffic.
TRACKHOOK_AFTERSHIP_SECRET ?= dev-secret
export TRACKHOOK_AFTERSHIP_SECRET

.PHONY: all build run test test-short vet fmt fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/trackhook

run: build
	$(BIN) serve

# The full suite, with the race detector, against real redis-server, SMTP
# and Twilio-speaking servers started by the tests themselves.
test: vet
	$(GO) test -race -count=1 ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Each fuzz target for a bounded time (FUZZTIME=30s make fuzz).
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN) ./outbox
