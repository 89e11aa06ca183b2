package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Targets from issue 6.
const (
	targetIngestRatio   = 0.5
	targetIngestP99     = 10 * time.Millisecond
	targetDispatchRatio = 0.6
	targetE2EP99        = 250 * time.Millisecond
	targetRSS           = 100 << 20
	// Issue 13: through providers far away, with the default settings.
	targetRelayMail = 100.0            // emails/s through an SMTP server answering after 100 ms
	targetRelaySMS  = 50.0             // SMS/s through a Twilio API answering after 200 ms
	targetResume    = 30 * time.Second // after a SIGKILL and a restart, the emails in flight are sent within this
)

// write prints the report and saves it as bench-<stamp>.md.
func (b *bench) write(rep *report, stdout io.Writer) error {
	var w bytes.Buffer
	b.render(&w, rep)
	path := b.path(".md")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		return err
	}
	if _, err := stdout.Write(w.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", path)
	return nil
}

func (b *bench) render(w io.Writer, rep *report) {
	o := b.opts
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# trackhook bench, %s\n\n", rep.started.UTC().Format("2006-01-02 15:04 MST"))
	p("%d CPUs (GOMAXPROCS %d), %s/%s, %s, trackhook %s, %s. Load average when the run started: %s.\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), rep.commit, redisVersion(), rep.loadAvg)
	p("Everything runs on loopback and shares these CPUs: the load generator, redis-server (append-only file,\n")
	p("fsync every second), the SMTP server, the baseline and trackhook. Other work on the machine moves the figures,\n")
	p("so every row says how many CPU cores each part used meanwhile: trackhook / redis-server / this bench\n")
	p("(load generator, baseline, SMTP server) / everything else on the machine, and the CPU time of the first three\n")
	p("together per webhook or email (which moves less than the rates do when the machine is busy). ⚠ marks a row\n")
	p("during which other work used more than %.2f cores: its figures say more about the machine than about trackhook.\n\n", busyOther)

	// 1. Ingest.
	p("## 1. Ingest: signed AfterShip webhooks, keep-alive connections, %v each after %v warm-up\n\n", o.ingest, o.warmup)
	p("Half are status changes of new parcels with two email subscribers (two notify tasks enqueued each),\n")
	p("half checkpoint-only updates of parcels created earlier in the run. The rate limit is off (TRACKHOOK_WEBHOOK_RATE=0).\n")
	p("On a webhook's path to its answer trackhook makes at most two sequential round trips to Redis (the read, then the\n")
	p("write; the rate limit's is under way while the body is read and verified), batched with those of concurrent webhooks;\n")
	p("the notify tasks are handed to asynq after the answer. \"Redis commands\" is what redis-server ran per webhook.\n\n")
	p("| connections | handler | webhooks/s | p50 | p99 | not 2xx | vs baseline | CPU cores th / redis / bench / other | CPU per webhook |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rep.ingest {
		p("| %d | baseline: read body + check HMAC (net/http in the bench process) | %s | %s | %s | %s | 1.00 | %s | %s |\n", r.conc,
			fmtRate(r.baseline.rate()), fmtDur(percentile(r.baseline.lat, .5)), fmtDur(percentile(r.baseline.lat, .99)), failures(r.baseline), r.baseline.cpu,
			r.baseline.cpu.perOp(r.baseline.rate()))
		p("| %d | `trackhook receiver`: verify, decode, Redis steps; enqueue and ack after the answer | %s | %s | %s | %s | %.2f | %s | %s |\n", r.conc,
			fmtRate(r.ingest.rate()), fmtDur(percentile(r.ingest.lat, .5)), fmtDur(percentile(r.ingest.lat, .99)), failures(r.ingest),
			ratioOf(r.ingest.rate(), r.baseline.rate()), r.ingest.cpu, r.ingest.cpu.perOp(r.ingest.rate()))
	}
	p("\n")
	for _, r := range rep.ingest {
		ops := float64(r.ingest.ok)
		if ops > 0 && r.redis.total() > 0 {
			p("Redis commands per webhook at %d connections: %.1f; by Redis's time: %s.\n", r.conc, float64(r.redis.total())/ops, r.redis.top(ops, 8))
		}
	}
	for _, r := range rep.ingest {
		p("\nAt a fixed concurrency the mean latency is connections / rate (Little's law): %d connections at %s webhooks/s\n", r.conc, fmtRate(r.ingest.rate()))
		p("is %s on average, so p99 ≤ 10 ms at this concurrency needs well over %s webhooks/s.\n",
			fmtDur(time.Duration(float64(r.conc)/max(r.ingest.rate(), 1)*float64(time.Second))), fmtRate(float64(r.conc)/targetIngestP99.Seconds()))
	}
	p("\n")

	// 2. Dispatch.
	p("## 2. Dispatch: emails over STARTTLS + AUTH PLAIN to an in-process SMTP server (emersion/go-smtp)\n\n")
	p("| sender | emails/s | connections opened | failed | vs reused connection | CPU cores th / redis / bench / other | CPU per email |\n|---|--:|--:|--:|--:|--:|--:|\n")
	limit := rep.raw.rate()
	row := func(name string, r sendResult) {
		p("| %s | %s | %d | %d | %.2f | %s | %s |\n", name, fmtRate(r.rate()), r.conns, r.failed, ratioOf(r.rate(), limit), r.cpu, r.cpu.perOp(r.rate()))
	}
	workers, inDoubt := b.workers(), b.inDoubt()
	pool := o.smtpPool
	if pool == 0 {
		pool = workers // the product default: TRACKHOOK_WORKER_CONCURRENCY
	}
	row("raw go-mail, one reused connection, sequential (the limit)", rep.raw)
	row("raw go-mail, one connection per message, sequential (the naive way)", rep.naive)
	row(fmt.Sprintf("dispatcher handler + SMTP pool (%d) in the bench process, %d goroutines, max in doubt %d; no asynq, no Redis", pool, workers, inDoubt), rep.inproc)
	row(fmt.Sprintf("`trackhook serve` worker: asynq, ledger + gate in Redis, templates, pool (%d), %d workers, max in doubt %d; %s", pool, workers, inDoubt, rep.worker.note), rep.worker)
	p("\n")
	if ops := float64(rep.worker.sent); ops > 0 && rep.worker.redis.total() > 0 {
		p("Redis commands per email while the worker drained: %.1f; by Redis's time: %s.\n\n", float64(rep.worker.redis.total())/ops, rep.worker.redis.top(ops, 10))
	}

	// 3. End to end.
	e := rep.e2e
	p("## 3. End to end: %.0f webhooks/s for %v through `trackhook serve`\n\n", o.e2eRate, o.e2e)
	p("Time from the webhook's 2xx (as the sender saw it) to the SMTP server's acceptance of each email it caused,\n")
	p("matched by Message-ID.\n\n")
	p("| webhooks sent | 2xx | webhook p50 / p99 | emails expected | arrived | 2xx → accepted p50 | p99 | max | CPU cores th / redis / bench / other |\n")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var maxLat time.Duration
	if len(e.lat) > 0 {
		maxLat = e.lat[len(e.lat)-1]
	}
	p("| %d | %d | %s / %s | %d | %d | %s | %s | %s | %s |\n\n", e.hooks.ok+e.hooks.failed, e.hooks.ok,
		fmtDur(percentile(e.hooks.lat, .5)), fmtDur(percentile(e.hooks.lat, .99)), e.expected, e.arrived,
		fmtDur(percentile(e.lat, .5)), fmtDur(percentile(e.lat, .99)), fmtDur(maxLat), e.cpu)
	p("Half of these webhooks are status changes with two subscribers: they cause %s emails/s, which the\n", fmtRate(o.e2eRate))
	p("worker has to sustain (section 2: %s emails/s while draining); below that the queue, and so the latency, grows for as long as the run lasts.\n\n", fmtRate(rep.worker.rate()))
	if ops := float64(e.hooks.ok); ops > 0 && e.redis.total() > 0 {
		p("Redis commands per webhook (with its emails): %.1f; by Redis's time: %s.\n\n", float64(e.redis.total())/ops, e.redis.top(ops, 10))
	}
	if e.hooks.late > 100*time.Millisecond {
		p("The load generator fell up to %s behind its schedule (trackhook answered too slowly, or the CPUs were busy).\n\n", fmtDur(e.hooks.late))
	}

	// 4. Through providers far away.
	if o.relay > 0 {
		p("## 4. Through providers far away: `trackhook serve` with default settings, %d workers\n\n", workers)
		p("A burst of webhooks queues a backlog; then what the provider accepts is counted over %v from its first\n", o.relay)
		p("acceptance. The provider answers each message late, as an ESP's SMTP endpoint or the Twilio API does from\n")
		p("far away: the rate is bounded by how many messages are in flight at once, not by CPU.\n\n")
		p("| provider | answers after | queued | accepted | per second | in flight (rate × latency) | CPU cores th / redis / bench / other |\n|---|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range []struct {
			name string
			r    relayResult
		}{{"SMTP server, end of DATA", rep.relayMail}, {"Twilio Messages API", rep.relaySMS}} {
			p("| %s | %s | %d | %d | %s | %.1f | %s |\n", r.name, fmtDur(r.r.latency), r.r.queued, r.r.sent, fmtRate(r.r.rate()),
				r.r.rate()*r.r.latency.Seconds(), r.r.cpu)
		}
		p("\n")
	}

	// 5. Memory.
	p("## 5. Memory: peak RSS (VmHWM) of each trackhook process\n\n| process | peak RSS |\n|---|--:|\n")
	var peak int64
	for _, r := range rep.rss {
		p("| %s | %s |\n", r.process, fmtMB(r.bytes))
		peak = max(peak, r.bytes)
	}
	p("\n")

	// 6. A crash in the middle of sending.
	if rr := rep.resume; rr.ran {
		p("## 6. Resume after SIGKILL: `trackhook serve` killed while it sends, another started at once\n\n")
		p("A burst of webhooks queues a backlog to an SMTP server answering each message after %s; when the worker\n", fmtDur(rr.latency))
		p("has sessions in flight, the process gets SIGKILL (no shutdown) and a new one starts, as a supervisor would\n")
		p("restart it. Measured from the new process's start: its first email, the last of the emails that were in flight\n")
		p("at the kill (matched by Message-ID; an acceptance within the answer time after the kill is the old process's and\n")
		p("does not count), and the backlog gone.\n\n")
		p("| in flight at the kill | due at the kill | kill → new process | → first email | → last in-flight email | → backlog gone | in-flight not sent |\n|--:|--:|--:|--:|--:|--:|--:|\n")
		p("| %d | %d | %s | %s | %s | %s | %d |\n\n", rr.inFlight, rr.queued, fmtDur(rr.restarted), fmtDur(rr.first), fmtDur(rr.resumed), fmtDur(rr.drained), rr.missing)
	}

	// Targets.
	p("## Targets (issues 6 and 13)\n\n| | target | measured | |\n|---|---|---|---|\n")
	verdict := func(ok bool, used ...cpuUse) string {
		v := "**missed**"
		if ok {
			v = "met"
		}
		for _, u := range used {
			if u.skewed() {
				return v + " ⚠"
			}
		}
		return v
	}
	for _, r := range rep.ingest {
		ratio := ratioOf(r.ingest.rate(), r.baseline.rate())
		p99 := percentile(r.ingest.lat, .99)
		p("| ingest rate, %d connections | ≥ %.2f × baseline | %.2f × (%s/s) | %s |\n", r.conc, targetIngestRatio, ratio, fmtRate(r.ingest.rate()), verdict(ratio >= targetIngestRatio, r.baseline.cpu, r.ingest.cpu))
		p("| ingest p99, %d connections | ≤ %s | %s | %s |\n", r.conc, fmtDur(targetIngestP99), fmtDur(p99), verdict(p99 <= targetIngestP99 && r.ingest.ok > 0, r.ingest.cpu))
	}
	dr := ratioOf(rep.worker.rate(), limit)
	p("| dispatch rate | ≥ %.2f × raw reused connection | %.2f × (%s/s) | %s |\n", targetDispatchRatio, dr, fmtRate(rep.worker.rate()), verdict(dr >= targetDispatchRatio, rep.raw.cpu, rep.worker.cpu))
	ep99 := percentile(e.lat, .99)
	p("| end-to-end p99 | ≤ %s, every email arrives | %s, %d of %d arrived | %s |\n", fmtDur(targetE2EP99), fmtDur(ep99), e.arrived, e.expected,
		verdict(ep99 <= targetE2EP99 && e.arrived == e.expected && e.expected > 0, e.cpu))
	p("| peak RSS | ≤ %s | %s | %s |\n", fmtMB(targetRSS), fmtMB(peak), verdict(peak > 0 && peak <= targetRSS))
	if o.relay > 0 {
		p("| emails through a relay answering after %s | ≥ %.0f/s by default | %s/s | %s |\n", fmtDur(rep.relayMail.latency), targetRelayMail,
			fmtRate(rep.relayMail.rate()), verdict(rep.relayMail.rate() >= targetRelayMail, rep.relayMail.cpu))
		p("| SMS through a Twilio API answering after %s | ≥ %.0f/s by default | %s/s | %s |\n", fmtDur(rep.relaySMS.latency), targetRelaySMS,
			fmtRate(rep.relaySMS.rate()), verdict(rep.relaySMS.rate() >= targetRelaySMS, rep.relaySMS.cpu))
	}
	if rr := rep.resume; rr.ran {
		p("| after SIGKILL and restart, the emails in flight are sent | ≤ %s | %s, %d of %d | %s |\n", fmtDur(targetResume), fmtDur(rr.resumed),
			rr.inFlight-rr.missing, rr.inFlight, verdict(rr.missing == 0 && rr.inFlight > 0 && rr.resumed <= targetResume))
	}
	p("\n")

	for _, n := range rep.notes {
		p("Note: %s\n\n", n)
	}
	for _, pr := range rep.profiles {
		p("## CPU profile of %s\n\n", pr.what)
		p("`go tool pprof -top %s`, cut (explore it with `go tool pprof -http=: %s`):\n\n", pr.path, pr.path)
		p("```\n%s\n```\n\n", pr.top)
	}
}

func ratioOf(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func failures(r loadResult) string {
	if r.failed == 0 {
		return "0"
	}
	codes := make([]int, 0, len(r.statuses))
	for c := range r.statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		name := strconv.Itoa(c)
		if c == 0 {
			name = "network error"
		}
		parts = append(parts, fmt.Sprintf("%d × %s", r.statuses[c], name))
	}
	return strings.Join(parts, ", ")
}

// fmtRate prints 12345.6 as "12,346".
func fmtRate(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(100 * time.Millisecond).String()
}

func fmtMB(n int64) string {
	if n <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}

func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "redis-server"
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return "redis-server " + v
		}
	}
	return "redis-server"
}
