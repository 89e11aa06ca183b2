package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	gomail "github.com/wneessen/go-mail"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/templates"
)

// sendResult is one dispatch measurement.
type sendResult struct {
	sent   int64
	failed int64
	window time.Duration
	conns  int64 // SMTP connections opened
	note   string
	cpu    cpuUse
	redis  redisUse // what Redis ran in the window (the worker's drain only)
}

func (r sendResult) rate() float64 {
	if r.window <= 0 {
		return 0
	}
	return float64(r.sent) / r.window.Seconds()
}

// sampleEmail renders the email a status change causes, with the product's
// templates, for the raw go-mail runs: the same subject, parts and sizes the
// worker sends.
func sampleEmail() (dispatcher.Email, error) {
	set, err := templates.New(templates.Options{})
	if err != nil {
		return dispatcher.Email{}, err
	}
	unsub := "https://shop.example/unsubscribe/bench-token"
	m, err := set.Render(templates.KindEmail, "InTransit", "en", templates.Data{
		TrackingNumber: "BENCH1000000001", CarrierSlug: benchSlug, CarrierName: "Deutsche Post DHL",
		TrackingURL: "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=BENCH1000000001",
		OrderNumber: "1001", Title: "Order #1001", CustomerName: "Kim Schmidt", ShopName: "Bench Shop",
		Status: "InTransit", Subtag: "InTransit_003", SubtagMessage: "Arrival Scan",
		CheckpointMessage: "Arrival scan", CheckpointLocation: "Leipzig, DEU", CheckpointTime: time.Now(),
		UnsubscribeURL: unsub,
	})
	if err != nil {
		return dispatcher.Email{}, err
	}
	return dispatcher.Email{From: benchFrom, To: "kim@example.com", Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		Language: m.Locale, ListUnsubscribe: unsub}, nil
}

// rawMsg builds the message as go-mail users do (no pool, no trackhook code).
func rawMsg(e dispatcher.Email, i int64) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return nil, err
	}
	if err := m.To(e.To); err != nil {
		return nil, err
	}
	m.Subject(e.Subject)
	m.SetDate()
	m.SetMessageIDWithValue(fmt.Sprintf("raw-%d@%s", i, benchDomain))
	m.SetGenHeader(gomail.HeaderContentLang, e.Language)
	m.SetGenHeader("List-Unsubscribe", "<"+e.ListUnsubscribe+">")
	m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	return m, nil
}

func (b *bench) rawClient(reuse bool) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(b.sink.port()), gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(b.sink.client),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(sinkUser), gomail.WithPassword(sinkPass),
		gomail.WithTimeout(15 * time.Second), gomail.WithHELO("bench.local"),
	}
	if reuse {
		// What the pool does too: no NOOP before and no RSET after each
		// message, so this is the fastest go-mail goes on one connection.
		opts = append(opts, gomail.WithoutNoop(), gomail.WithoutRset())
	}
	return gomail.NewClient(b.sink.host(), opts...)
}

// rawReused sends sequentially over one connection for dur.
func (b *bench) rawReused(ctx context.Context, e dispatcher.Email, dur time.Duration) (sendResult, error) {
	c, err := b.rawClient(true)
	if err != nil {
		return sendResult{}, err
	}
	conns0 := b.sink.connections()
	if err := c.DialWithContext(ctx); err != nil {
		return sendResult{}, fmt.Errorf("raw go-mail dial: %w", err)
	}
	defer c.Close()
	var r sendResult
	start := time.Now()
	for i := int64(0); time.Since(start) < dur && ctx.Err() == nil; i++ {
		m, err := rawMsg(e, i)
		if err != nil {
			return r, err
		}
		if err := c.Send(m); err != nil {
			r.failed++
			continue
		}
		r.sent++
	}
	r.window = time.Since(start)
	r.conns = b.sink.connections() - conns0
	return r, nil
}

// rawPerMessage dials, says EHLO, STARTTLS, AUTH, sends one message and
// QUITs, sequentially, for dur: go-mail's DialAndSend per message.
func (b *bench) rawPerMessage(ctx context.Context, e dispatcher.Email, dur time.Duration) (sendResult, error) {
	c, err := b.rawClient(false)
	if err != nil {
		return sendResult{}, err
	}
	conns0 := b.sink.connections()
	var r sendResult
	start := time.Now()
	for i := int64(0); time.Since(start) < dur && ctx.Err() == nil; i++ {
		m, err := rawMsg(e, i)
		if err != nil {
			return r, err
		}
		if err := c.DialAndSendWithContext(ctx, m); err != nil {
			r.failed++
			continue
		}
		r.sent++
	}
	r.window = time.Since(start)
	r.conns = b.sink.connections() - conns0
	return r, nil
}

// allowAll is a Ledger, Gate and DeliveryLog that never says no and
// remembers nothing: the in-process handler run measures rendering and
// sending, not Redis.
type allowAll struct{}

func (allowAll) Record(context.Context, string, dispatcher.Delivery) error { return nil }

func (allowAll) Delivered(context.Context, string, string) (bool, error) { return false, nil }
func (allowAll) MarkDelivered(context.Context, string, string) error     { return nil }
func (allowAll) BeginSend(context.Context, string, string) (bool, error) { return false, nil }
func (allowAll) Allowed(context.Context, string, dispatcher.Channel, string) (bool, string, error) {
	return true, "", nil
}

type noSMS struct{}

func (noSMS) Send(context.Context, dispatcher.SMS) (string, error) { return "", nil }

// inDoubt is the MaxInDoubt the worker runs with.
func (b *bench) inDoubt() int {
	if b.opts.inDoubt < 0 {
		return b.workers() // the product's default TRACKHOOK_MAX_IN_DOUBT
	}
	return b.opts.inDoubt
}

// workers is the worker's TRACKHOOK_WORKER_CONCURRENCY.
func (b *bench) workers() int {
	if b.opts.workers == 0 {
		return 20 // the product's default
	}
	return b.opts.workers
}

// handlerInProcess runs the product's notify:email handler and SMTP pool in
// this process, from `workers` goroutines (the worker's default
// concurrency), without asynq and with a ledger and gate that do no I/O.
func (b *bench) handlerInProcess(ctx context.Context, workers, poolSize int, dur time.Duration) (sendResult, error) {
	set, err := templates.New(templates.Options{})
	if err != nil {
		return sendResult{}, err
	}
	cfg, err := mailer.ParseSMTPURL(b.sink.url(nil))
	if err != nil {
		return sendResult{}, err
	}
	cfg.TLSConfig = b.sink.client
	cfg.PoolSize = poolSize
	pool, err := mailer.NewSMTP(cfg)
	if err != nil {
		return sendResult{}, err
	}
	defer pool.Close()
	h, err := dispatcher.NewHandler(dispatcher.Config{
		Templates: set, Email: pool, SMS: noSMS{}, Ledger: allowAll{}, Gate: allowAll{}, DeliveryLog: allowAll{},
		UnsubscribeURL: func(context.Context, string, dispatcher.Channel, string) (string, error) {
			return "https://shop.example/unsubscribe/bench-token", nil
		},
		From: benchFrom, MessageIDDomain: benchDomain, ShopName: "Bench Shop", MaxInDoubt: b.inDoubt(),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		return sendResult{}, err
	}
	gen, err := newGenerator(b.secret, "H")
	if err != nil {
		return sendResult{}, err
	}
	tasks := make([]*asynq.Task, 0, 64)
	for k := range int64(cap(tasks) / 2) {
		loc := locales[k%int64(len(locales))]
		for _, r := range gen.recipients(k) {
			t, err := dispatcher.NewTask(dispatcher.Notification{
				TrackingID: "bench" + itoa(k), Key: "InTransit:email:" + r, Status: "InTransit", Channel: dispatcher.ChannelEmail,
				Recipient: r, Language: loc.lang, Country: loc.country,
				Shipment: dispatcher.Shipment{TrackingNumber: gen.number(k), CarrierSlug: benchSlug, CarrierName: "Deutsche Post DHL",
					OrderNumber: itoa(k), Title: "Order #" + itoa(k), CustomerName: "Kim Schmidt", Subtag: "InTransit_003",
					SubtagMessage: "Arrival Scan", CheckpointMessage: "Arrival scan", CheckpointLocation: loc.city, CheckpointTime: time.Now()},
			})
			if err != nil {
				return sendResult{}, err
			}
			tasks = append(tasks, t)
		}
	}

	conns0 := b.sink.connections()
	var mu sync.Mutex
	var r sendResult
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var sent, failed int64
			for i := w; time.Since(start) < dur && ctx.Err() == nil; i += workers {
				if err := h.ProcessEmail(ctx, tasks[i%len(tasks)]); err != nil {
					failed++
					continue
				}
				sent++
			}
			mu.Lock()
			r.sent += sent
			r.failed += failed
			mu.Unlock()
		})
	}
	wg.Wait()
	r.window = time.Since(start)
	r.conns = b.sink.connections() - conns0
	return r, nil
}

// drainWorker measures the rate at which the running trackhook worker sends
// the email tasks already queued in Redis, for at most dur, from the first
// email it sends to the last. It then deletes what is still pending and
// waits for the worker to go idle, so the next phase starts clean.
func (b *bench) drainWorker(ctx context.Context, rdb redis.UniversalClient, pid int, accepted0, conns0 int64, backlog int, dur time.Duration) (sendResult, error) {
	insp := asynq.NewInspectorFromRedisClient(rdb)
	var r sendResult
	// The worker started before the receiver answered /readyz: sending has
	// begun. The window opens at the first poll that sees a new email.
	var t0 time.Time
	var c0 int64
	var cpu0 cpuSnap
	var redis0 redisUse
	deadline := time.Now().Add(dur + 10*time.Second)
	var end time.Time
	for ctx.Err() == nil && time.Now().Before(deadline) {
		n := b.sink.accepted.Load()
		if t0.IsZero() && n > accepted0 {
			t0, c0 = time.Now(), n
			cpu0 = cpuNow(pid, b.redis.cmd.Process.Pid)
			redis0 = commandStats(b.rdb)
			deadline = t0.Add(dur)
		}
		qi, err := insp.GetQueueInfo(dispatcher.QueueEmail)
		if err != nil {
			return r, fmt.Errorf("queue info: %w", err)
		}
		if qi.Pending == 0 && qi.Active == 0 {
			end = time.Unix(0, b.sink.lastAccept.Load())
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c1 := b.sink.accepted.Load()
	if !t0.IsZero() {
		r.cpu = cpuBetween(cpu0, cpuNow(pid, b.redis.cmd.Process.Pid))
		r.redis = commandStats(b.rdb).since(redis0)
	}
	if end.IsZero() {
		end = time.Now()
	}
	if !t0.IsZero() {
		r.sent, r.window = c1-c0, end.Sub(t0)
	}
	r.conns = b.sink.connections() - conns0
	qi, err := insp.GetQueueInfo(dispatcher.QueueEmail)
	if err != nil {
		return r, fmt.Errorf("queue info: %w", err)
	}
	r.failed = int64(qi.Retry + qi.Archived)
	r.note = fmt.Sprintf("%d of the %d queued emails sent", c1-accepted0, backlog)

	// Clear the rest of the backlog for the end-to-end run.
	if _, err := insp.DeleteAllPendingTasks(dispatcher.QueueEmail); err != nil {
		return r, fmt.Errorf("delete pending: %w", err)
	}
	idle := time.Now().Add(30 * time.Second)
	for time.Now().Before(idle) {
		qi, err := insp.GetQueueInfo(dispatcher.QueueEmail)
		if err != nil {
			return r, err
		}
		if qi.Pending == 0 && qi.Active == 0 {
			return r, nil
		}
		if qi.Pending > 0 {
			_, _ = insp.DeleteAllPendingTasks(dispatcher.QueueEmail)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return r, fmt.Errorf("the worker did not go idle within 30s after the backlog was cleared")
}
