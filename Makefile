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

.PHONY: all build run test test-short test-faults vet fmt fuzz clean bench screenshots

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/trackhook

# The samples in testdata/ carry fixed dates, so the walkthrough's webhooks
# are older than the stale rule's week: make run turns the rule off unless
# you set it, and with it the stuck-parcel rule (an in-transit sample weeks
# old would count as stuck at once).
run: export TRACKHOOK_STALE_AFTER ?= off
run: export TRACKHOOK_STUCK_AFTER ?= off
run: build
	$(BIN) serve

# The full suite, with the race detector, against real redis-server, SMTP
# and Twilio-speaking servers started by the tests themselves.
test: vet
	$(GO) test -race -count=1 ./...

# The fault-injection suite in its full form (several minutes; needs
# redis-server): 500 trackings per scenario, 10 SIGKILLs, Redis down 10 s,
# SMTP and the SMS API failing for 30 s, 3 SIGTERMs. `make test` runs its
# short form. The table is printed and written to bench-results/faults-full.txt.
test-faults:
	TRACKHOOK_FAULTS=full $(GO) test -count=1 -timeout 30m -v -run '^TestFaults$$' ./cmd/trackhook/faults

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Each fuzz target for a bounded time (FUZZTIME=30s make fuzz). A finding is
# written to the package's testdata/fuzz/<target>/ and fails the run. Go
# 1.26's coordinator can also end a run that found nothing with "context
# deadline exceeded" (a race at the -fuzztime deadline on a busy machine,
# golang/go#75804, fixed in Go 1.27): such a run passes if it wrote no failing
# input and the target's seeds and recorded findings still pass.
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg) || { echo "$$list"; exit 1; }; \
	  for t in $$(echo "$$list" | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    out=$$($(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); rc=$$?; echo "$$out"; \
	    if [ $$rc -ne 0 ]; then \
	      case "$$out" in *"Failing input written"*) exit 1;; *"context deadline exceeded"*) ;; *) exit 1;; esac; \
	      $(GO) test -count=1 -run "^$$t$$" $$pkg || exit 1; \
	      echo "   (deadline race at the end of -fuzztime, golang/go#75804; no failing input)"; \
	    fi; \
	  done; \
	done

# Throughput, latency and memory against this machine's own limits, side by
# side in one run of a few minutes (needs redis-server). The table is printed
# and written to bench-results/bench-<date>.md. Quicker and rougher:
# make bench BENCHFLAGS="-ingest 5s -e2e 5s".
BENCHFLAGS ?=
bench:
	$(GO) run ./cmd/trackhook-bench -c 32,64 -ingest 20s -raw 5s -drain 15s -e2e 60s -e2e-rate 1000 $(BENCHFLAGS)

# Sample emails rendered by headless Chromium into screenshots/*.png, for a
# person to look at (CI does not run it). Needs Debian's chromium package,
# and fonts for Japanese, Chinese and Korean (else they show as boxes):
# apt-get install -y chromium fonts-noto-cjk. Brand settings come from the environment
# (TRACKHOOK_SHOP_NAME, TRACKHOOK_BRAND_*, TRACKHOOK_SUPPORT_*, ...).
SCREENSHOT_LANGS    ?= en de fr pl ja zh-Hans ar he
SCREENSHOT_STATUSES ?= InTransit Delivered Late
CHROMIUM            ?= chromium
screenshots: build
	@command -v $(CHROMIUM) >/dev/null || { echo "no $(CHROMIUM): apt-get install -y chromium fonts-noto-cjk"; exit 1; }
	@mkdir -p screenshots
	@for l in $(SCREENSHOT_LANGS); do for s in $(SCREENSHOT_STATUSES); do \
	  f=screenshots/$$s.$$l; \
	  $(BIN) templates preview -lang $$l -status $$s -html > $$f.html || exit 1; \
	  $(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync --user-data-dir=$$(mktemp -d) --hide-scrollbars \
	    --window-size=680,1100 --screenshot=$$PWD/$$f.png file://$$PWD/$$f.html 2>/dev/null || exit 1; \
	  echo $$f.png; \
	done; done

clean:
	rm -rf $(BIN) ./outbox ./screenshots
