package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/signature"
)

type options struct {
	conc     []int // ingest: one run per concurrency
	warmup   time.Duration
	ingest   time.Duration
	raw      time.Duration
	drain    time.Duration
	e2e      time.Duration
	e2eRate  float64
	workers  int
	smtpPool int
	inDoubt  int // TRACKHOOK_MAX_IN_DOUBT; -1: the product default
	out      string
	bin      string
	profile  bool
	// Section 5: through providers far away.
	relay         time.Duration // measured window per run
	resume        time.Duration // SMTP answer time during the resume run; 0: skip it
	smtpLatency   time.Duration
	twilioLatency time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("trackhook-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	concs := fs.String("c", "32,64", "ingest: concurrent keep-alive connections, one run for each of a comma-separated list")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "ingest: unmeasured warm-up before each measured run")
	fs.DurationVar(&o.ingest, "ingest", 20*time.Second, "ingest: measured time per handler")
	fs.DurationVar(&o.raw, "raw", 5*time.Second, "dispatch: time for each raw go-mail and in-process handler run")
	fs.DurationVar(&o.drain, "drain", 15*time.Second, "dispatch: longest time to measure the worker draining the ingest's emails")
	fs.DurationVar(&o.e2e, "e2e", 15*time.Second, "end to end: duration at -e2e-rate")
	fs.Float64Var(&o.e2eRate, "e2e-rate", 1000, "end to end: webhooks per second")
	fs.IntVar(&o.workers, "workers", 0, "TRACKHOOK_WORKER_CONCURRENCY for the worker (0: the product default)")
	fs.IntVar(&o.inDoubt, "in-doubt", -1, "TRACKHOOK_MAX_IN_DOUBT for the worker and the in-process handler (-1: the product default, TRACKHOOK_WORKER_CONCURRENCY; 0: no bound)")
	fs.IntVar(&o.smtpPool, "smtp-pool", 0, "SMTP pool size, the URL's pool= (0: the product default)")
	fs.StringVar(&o.out, "out", "bench-results", "directory for the results table, logs and profile")
	fs.StringVar(&o.bin, "bin", "", "trackhook binary to measure (default: go build ./cmd/trackhook)")
	fs.BoolVar(&o.profile, "profile", true, "capture a CPU profile of trackhook during ingest (TRACKHOOK_PPROF_ADDR)")
	fs.DurationVar(&o.relay, "relay", 8*time.Second, "through a relay: measured window of each run (0: skip section 5)")
	fs.DurationVar(&o.resume, "resume", time.Second, "resume after SIGKILL: how long the SMTP server takes to answer the end of DATA meanwhile (0: skip section 6)")
	fs.DurationVar(&o.smtpLatency, "smtp-latency", 100*time.Millisecond, "through a relay: how long the SMTP server takes to answer the end of DATA")
	fs.DurationVar(&o.twilioLatency, "sms-latency", 200*time.Millisecond, "through a relay: how long the Twilio-speaking server takes to answer a send")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, f := range strings.Split(*concs, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return o, fmt.Errorf("-c: %q is not a number of connections (at least 1)", f)
		}
		o.conc = append(o.conc, c)
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.ingest <= 0 || o.raw <= 0 || o.drain <= 0 || o.e2e <= 0 || o.warmup < 0:
		return o, errors.New("durations must be positive")
	case o.e2eRate <= 0:
		return o, errors.New("-e2e-rate must be positive")
	}
	return o, nil
}

type bench struct {
	opts   options
	log    io.Writer
	tmp    string
	stamp  string // file names
	runID  string // tracking-number prefix, unique per run
	bin    string
	secret string
	redis  *redisServer
	rdb    *redis.Client
	sink   *smtpSink
	twilio *twilioSink
	caFile string
}

func newBench(ctx context.Context, opts options, log io.Writer) (_ *bench, err error) {
	now := time.Now()
	b := &bench{opts: opts, log: log, stamp: now.Format("20060102-150405"), runID: strconv.FormatInt(now.Unix()%1e6, 10),
		secret: "bench-aftership-secret"}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if err := os.MkdirAll(opts.out, 0o755); err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "trackhook-bench-"); err != nil {
		return nil, err
	}
	if b.bin = opts.bin; b.bin == "" {
		b.progress("building ./cmd/trackhook")
		if b.bin, err = buildTrackhook(ctx, b.tmp); err != nil {
			return nil, err
		}
	}
	if b.redis, err = startRedis(ctx, b.tmp); err != nil {
		return nil, err
	}
	b.rdb = redis.NewClient(&redis.Options{Addr: b.redis.addr})
	if b.sink, err = startSMTPSink(); err != nil {
		return nil, err
	}
	if b.twilio, err = startTwilioSink(); err != nil {
		return nil, err
	}
	b.caFile = filepath.Join(b.tmp, "smtp-sink-ca.pem")
	if err := os.WriteFile(b.caFile, b.sink.caPEM, 0o644); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bench) close() {
	if b.sink != nil {
		b.sink.close()
	}
	if b.twilio != nil {
		b.twilio.close()
	}
	if b.rdb != nil {
		b.rdb.Close()
	}
	if b.redis != nil {
		b.redis.stop()
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bench) path(suffix string) string {
	return filepath.Join(b.opts.out, "bench-"+b.stamp+suffix)
}

// env is the environment of a trackhook process in this run.
func (b *bench) env(addr, pprofAddr string) map[string]string {
	q := url.Values{}
	if b.opts.smtpPool > 0 {
		q.Set("pool", strconv.Itoa(b.opts.smtpPool))
	}
	env := map[string]string{
		"TRACKHOOK_ADDR":               addr,
		"TRACKHOOK_PUBLIC_URL":         "http://" + addr,
		"TRACKHOOK_REDIS_URL":          b.redis.url(),
		"TRACKHOOK_AFTERSHIP_SECRET":   b.secret,
		"TRACKHOOK_WEBHOOK_RATE":       "0", // the bench is the one sender; measure, do not throttle
		"TRACKHOOK_UNSUBSCRIBE_SECRET": "bench-unsubscribe-secret-0123456789abcdef",
		"TRACKHOOK_SMTP_URL":           b.sink.url(q),
		"TRACKHOOK_MAIL_FROM":          benchFrom,
		"TRACKHOOK_OUTBOX_DIR":         filepath.Join(b.tmp, "outbox"),
		"SSL_CERT_FILE":                b.caFile, // trust the sink's self-signed certificate
		"TRACKHOOK_TWILIO_ACCOUNT_SID": benchTwilioSID,
		"TRACKHOOK_TWILIO_AUTH_TOKEN":  "bench-twilio-token",
		"TRACKHOOK_TWILIO_FROM":        "+15005550006",
		"TRACKHOOK_TWILIO_BASE_URL":    b.twilio.url(),
		"TRACKHOOK_SMS_QUIET_HOURS":    "off", // the bench runs at any hour
	}
	if b.opts.workers > 0 {
		env["TRACKHOOK_WORKER_CONCURRENCY"] = strconv.Itoa(b.opts.workers)
	}
	if b.opts.inDoubt >= 0 {
		env["TRACKHOOK_MAX_IN_DOUBT"] = strconv.Itoa(b.opts.inDoubt)
	}
	if pprofAddr != "" {
		env["TRACKHOOK_PPROF_ADDR"] = pprofAddr
	}
	return env
}

// ingestRun is section 1 at one concurrency.
type ingestRun struct {
	conc             int
	baseline, ingest loadResult
	redis            redisUse // what Redis did meanwhile, for trackhook
}

// report is everything one run measured.
type report struct {
	started time.Time
	loadAvg string
	commit  string
	ingest  []ingestRun // one per -c
	queued  int         // emails queued by the ingest
	raw     sendResult
	naive   sendResult
	inproc  sendResult
	worker  sendResult
	e2e     e2eResult
	// relayMail and relaySMS: section 5 (zero when skipped).
	relayMail, relaySMS relayResult
	resume              resumeResult // section 6
	rss                 []rssResult
	profiles            []profileResult
	notes               []string
}

type profileResult struct {
	what string // which process, during what
	path string
	top  string // go tool pprof -top of it
}

type rssResult struct {
	process string
	bytes   int64
}

func (b *bench) run(ctx context.Context) (*report, error) {
	rep := &report{started: time.Now(), loadAvg: loadAvg(), commit: gitDescribe()}
	webhookPath := "/webhooks/aftership"

	// 1. Ingest: at each concurrency the baseline, then trackhook receiver.
	for i, conc := range b.opts.conc {
		run, err := b.ingestAt(ctx, rep, conc, webhookPath, i == len(b.opts.conc)-1)
		if err != nil {
			return nil, err
		}
		rep.ingest = append(rep.ingest, run)
	}
	var (
		cpu             func() cpuUse
		addr, pprofAddr string
		profiled        func()
	)
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	if qi, err := insp.GetQueueInfo(dispatcher.QueueEmail); err == nil {
		rep.queued = qi.Pending
	}

	// 2. Dispatch.
	email, err := sampleEmail()
	if err != nil {
		return nil, err
	}
	b.progress("dispatch: raw go-mail, one reused connection, %v", b.opts.raw)
	cpu = b.cpuWindow(0, 0)
	if rep.raw, err = b.rawReused(ctx, email, b.opts.raw); err != nil {
		return nil, err
	}
	rep.raw.cpu = cpu()
	b.progress("dispatch: raw go-mail, one connection per message, %v", b.opts.raw)
	cpu = b.cpuWindow(0, 0)
	if rep.naive, err = b.rawPerMessage(ctx, email, b.opts.raw); err != nil {
		return nil, err
	}
	rep.naive.cpu = cpu()
	workers, pool := b.workers(), b.opts.smtpPool
	if pool == 0 {
		pool = workers // the product's default: the SMTP pool follows TRACKHOOK_WORKER_CONCURRENCY
	}
	b.progress("dispatch: dispatcher handler + SMTP pool in this process, %d goroutines, %v", workers, b.opts.raw)
	cpu = b.cpuWindow(0, 0)
	if rep.inproc, err = b.handlerInProcess(ctx, workers, pool, b.opts.raw); err != nil {
		return nil, err
	}
	rep.inproc.cpu = cpu()
	b.progress("dispatch: trackhook serve draining the %d emails the ingest queued (at most %v)", rep.queued, b.opts.drain)
	accepted0, conns0 := b.sink.accepted.Load(), b.sink.connections()
	if addr, err = freeAddr(); err != nil {
		return nil, err
	}
	if b.opts.profile {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	srv, err := startChild(ctx, b.bin, "serve", b.env(addr, pprofAddr), b.path("-serve.log"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if srv != nil {
			_ = srv.stop()
		}
	}()
	profiled = b.profile(ctx, rep, pprofAddr, "`trackhook serve` while its worker drains the queue", "-dispatch.cpu.pprof", time.Second, b.opts.drain/2)
	if rep.worker, err = b.drainWorker(ctx, b.rdb, srv.pid(), accepted0, conns0, rep.queued, b.opts.drain); err != nil {
		return nil, err
	}
	profiled()

	// 3. End to end, on the same process.
	b.progress("end to end: %.0f webhooks/s for %v through trackhook serve", b.opts.e2eRate, b.opts.e2e)
	cpu = b.cpuWindow(srv.pid(), 0)
	rstats := b.redisWindow(0)
	profiled = b.profile(ctx, rep, pprofAddr, "`trackhook serve` end to end (receiver and worker)", "-e2e.cpu.pprof", b.opts.e2e/4, b.opts.e2e/2)
	if rep.e2e, err = b.endToEnd(ctx, "http://"+addr+webhookPath, b.opts.e2eRate, b.opts.e2e); err != nil {
		return nil, err
	}
	rep.e2e.cpu, rep.e2e.redis = cpu(), rstats()
	profiled()

	// 4. Through providers far away.
	if b.opts.relay > 0 {
		b.progress("through a relay: SMTP answering the end of DATA after %v, %v", b.opts.smtpLatency, b.opts.relay)
		if rep.relayMail, err = b.throughRelay(ctx, "http://"+addr+webhookPath, srv.pid(), false, b.opts.smtpLatency, b.opts.relay); err != nil {
			return nil, err
		}
		b.progress("through a relay: Twilio API answering after %v, %v", b.opts.twilioLatency, b.opts.relay)
		if rep.relaySMS, err = b.throughRelay(ctx, "http://"+addr+webhookPath, srv.pid(), true, b.opts.twilioLatency, b.opts.relay); err != nil {
			return nil, err
		}
	}

	// 5. Memory.
	rep.rss = append(rep.rss, b.peak(srv, "trackhook serve (dispatch + end to end)"))

	// 6. A crash in the middle of sending.
	if b.opts.resume > 0 {
		b.progress("resume: SIGKILL trackhook serve while it sends through an SMTP server answering after %v, start another", b.opts.resume)
		var next *child
		rep.resume, next, err = b.resumeAfterKill(ctx, "http://"+addr+webhookPath, srv, func() (*child, error) {
			return startChild(ctx, b.bin, "serve", b.env(addr, ""), b.path("-serve-restarted.log"))
		}, b.opts.resume)
		srv = next
		if err != nil {
			return nil, err
		}
	}
	err = srv.stop()
	srv = nil
	if err != nil {
		rep.notes = append(rep.notes, err.Error())
	}
	return rep, ctx.Err()
}

// ingestAt measures the baseline and then trackhook receiver at conc
// connections; profile: capture a CPU profile of the receiver.
func (b *bench) ingestAt(ctx context.Context, rep *report, conc int, webhookPath string, profile bool) (ingestRun, error) {
	run := ingestRun{conc: conc}
	b.progress("ingest: baseline handler (read body + HMAC), %d connections, %v", conc, b.opts.ingest)
	base, stopBase, err := startBaseline(b.secret)
	if err != nil {
		return run, err
	}
	gen, err := newGenerator(b.secret, "B"+b.runID)
	if err != nil {
		return run, err
	}
	cpu := b.cpuWindow(0, b.opts.warmup)
	run.baseline = closedLoop(ctx, base+webhookPath, gen, conc, b.opts.warmup, b.opts.ingest)
	run.baseline.cpu = cpu()
	stopBase()
	if ctx.Err() != nil {
		return run, ctx.Err()
	}

	b.progress("ingest: trackhook receiver, %d connections, %v", conc, b.opts.ingest)
	addr, err := freeAddr()
	if err != nil {
		return run, err
	}
	pprofAddr := ""
	if b.opts.profile {
		if pprofAddr, err = freeAddr(); err != nil {
			return run, err
		}
	}
	recv, err := startChild(ctx, b.bin, "receiver", b.env(addr, pprofAddr), b.path("-receiver.log"))
	if err != nil {
		return run, err
	}
	defer func() {
		if recv != nil {
			_ = recv.stop()
		}
	}()
	gen, err = newGenerator(b.secret, fmt.Sprintf("I%dx%s", conc, b.runID)) // parcels of its own per run
	if err != nil {
		return run, err
	}
	profiled := func() {}
	if profile {
		profiled = b.profile(ctx, rep, pprofAddr, fmt.Sprintf("`trackhook receiver` during ingest at %d connections", conc), "-ingest.cpu.pprof", b.opts.warmup, b.opts.ingest/2)
	}
	cpu = b.cpuWindow(recv.pid(), b.opts.warmup)
	rstats := b.redisWindow(b.opts.warmup)
	run.ingest = closedLoop(ctx, "http://"+addr+webhookPath, gen, conc, b.opts.warmup, b.opts.ingest)
	run.ingest.cpu = cpu()
	run.redis = rstats()
	profiled()
	rep.rss = append(rep.rss, b.peak(recv, fmt.Sprintf("trackhook receiver (ingest, %d connections)", conc)))
	err = recv.stop()
	recv = nil
	if err != nil {
		rep.notes = append(rep.notes, err.Error())
	}
	return run, ctx.Err()
}

func (b *bench) peak(c *child, name string) rssResult {
	n, err := c.peakRSS()
	if err != nil {
		b.progress("peak RSS of %s: %v", name, err)
	}
	return rssResult{process: name, bytes: n}
}

// startBaseline serves the baseline in this process: read the body (capped
// like the receiver's), check the AfterShip HMAC, answer 200.
func startBaseline(secret string) (base string, stop func(), err error) {
	ver, err := signature.NewAfterShip([]string{secret})
	if err != nil {
		return "", nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, receiver.MaxBodyBytes))
		if err != nil {
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		if err := ver.Verify(body, r.Header); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }, nil
}

// profile captures a CPU profile of the process serving pprof on addr,
// from delay on for length, into bench-<stamp><suffix>, unless profiling is
// off. The returned func waits for it and adds it to rep.
func (b *bench) profile(ctx context.Context, rep *report, addr, what, suffix string, delay, length time.Duration) func() {
	if !b.opts.profile {
		return func() {}
	}
	path := b.path(suffix)
	done := make(chan error, 1)
	go func() { done <- captureProfile(ctx, addr, delay, max(length, time.Second), path) }()
	return func() {
		if err := <-done; err != nil {
			rep.notes = append(rep.notes, fmt.Sprintf("no CPU profile of %s: %v", what, err))
			return
		}
		rep.profiles = append(rep.profiles, profileResult{what: what, path: path, top: pprofTop(b.bin, path)})
	}
}

// captureProfile fetches a CPU profile of seconds from trackhook's pprof
// listener after waiting delay.
func captureProfile(ctx context.Context, addr string, delay, length time.Duration, path string) error {
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	secs := max(int(length/time.Second), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w (is TRACKHOOK_PPROF_ADDR supported by this binary?)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof answered %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pprofTop is `go tool pprof -top` of the profile: the heaviest functions by
// their own time, then by time including what they call.
func pprofTop(bin, profile string) string {
	var out []string
	for _, args := range [][]string{{"-nodecount=20"}, {"-cum", "-nodecount=45"}} {
		cmd := exec.Command("go", append(append([]string{"tool", "pprof", "-top"}, args...), bin, profile)...)
		b, err := cmd.Output()
		if err != nil {
			return "go tool pprof failed: " + err.Error()
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return strings.Join(out, "\n\n")
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
