package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/cmd/trackhook/internal/metrics"
	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/groupcommit"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/quiet"
	"github.com/trackhook/trackhook/dispatcher/sms"
	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/optout"
	"github.com/trackhook/trackhook/receiver/ratelimit"
	"github.com/trackhook/trackhook/receiver/rules"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
	"github.com/trackhook/trackhook/signature"
	"github.com/trackhook/trackhook/templates"
)

type role uint8

const (
	roleReceiver role = 1 << iota
	roleWorker
)

const shutdownTimeout = 15 * time.Second

// enqueuers is how many goroutines of a receiver hand the jobs of answered
// webhooks over to asynq (receiver.Config.Enqueuers): their enqueues and
// acks share the webhooks' pipelines (groupcommit), so they cost no
// connections, and the more wait at once the fewer round trips they take.
const enqueuers = 32

// The sweeper looks every sweepInterval (with jitter, up to 1.5×) for the
// jobs of webhooks whose receiver died before it handed them to asynq, and
// takes those written more than sweepGrace ago: longer than a live
// receiver takes to hand them over (the enqueuers' retries included), short
// enough that the work of a killed process resumes within 30 s.
const (
	sweepInterval = 5 * time.Second
	sweepGrace    = 15 * time.Second
)

// rescueInterval is how often a worker looks for the tasks of dead workers
// whose lease ran out (dispatcher.Rescuer): the work of a killed process
// resumes at most this long (with jitter, 1.5×) after its lease.
const rescueInterval = 2 * time.Second

// runServer runs the receiver, the worker, or both, until ctx ends, then
// shuts down gracefully: in-flight requests and jobs finish (or jobs go back
// to the queue) before it returns.
func runServer(ctx context.Context, now func() time.Time, getenv func(string) string, stderr io.Writer, roles role) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err // main prints it: there is no logger before the configuration
	}
	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	routeRedisLogs(log)
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	rdb, target, closeRedis, err := openRedis(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeRedis()

	reg := metrics.NewRegistry(version)
	m, err := metrics.New(reg)
	if err != nil {
		return err
	}
	op := ops{metrics: m, scrape: metrics.Handler(reg, log)}
	if roles&roleWorker != 0 {
		// Queue sizes come from Redis and are the same in every process;
		// the workers report them.
		insp := asynq.NewInspectorFromRedisClient(rdb)
		reg.MustRegister(metrics.NewQueueCollector(insp, 5*time.Second))
	}
	if roles&roleReceiver != 0 {
		var closeAdmin func()
		op.admin, closeAdmin = newAdmin(cfg.AdminKeys, target)
		defer closeAdmin()
		if op.admin == nil {
			log.Info("TRACKHOOK_ADMIN_KEYS is not set: the queue dashboard " + adminRoot + " is off")
		}
	}

	policy := tracking.DefaultPolicy
	policy.Triggers = cfg.Triggers
	policy.StaleAfter, policy.NotifyFirstDelivered, policy.Delays = cfg.StaleAfter, cfg.NotifyFirstDelivered, cfg.Delays
	policy.NotifyDateChanges = cfg.DateMessages
	var stuck tracking.StuckDeadline
	if cfg.StuckDays > 0 {
		stuck = rules.Stuck{Days: cfg.StuckDays, Calendar: cfg.Holidays, Fallback: time.Local}.Deadline
	}
	var late tracking.LateDeadline
	if cfg.DateMessages {
		late = rules.Late{Fallback: time.Local}.Deadline
	}
	// The receiver's trackings and the dispatcher's notification state
	// (ledger, delivery log, suppression list) share the Redis client and
	// the clock; the delivery log is kept only for trackings that exist.
	// Concurrent webhooks (and sends) share pipelines to Redis: one write
	// and one read for what would be dozens of round trips.
	batch := groupcommit.New(rdb, groupcommit.Options{})
	defer batch.Close()
	store := tracking.NewStore(rdb, tracking.Options{Policy: policy, Now: now, Batcher: batch, Stuck: stuck, Late: late})
	notify := state.New(rdb, state.Options{DeliveryRetention: cfg.DeliveryRetention, TrackingKey: tracking.StateKey, Now: now, Batcher: batch})
	optOut, err := newOptOut(ctx, cfg, store, notify, log)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	var stops []func()

	// One set of templates for the worker's messages and the API's
	// previews, reloaded on SIGHUP.
	tmpl, err := templates.NewLive(cfg.templateOptions())
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	stops = append(stops, reloadOnHangup(tmpl, log))
	if cfg.ShopName == "" {
		log.Warn("no shop name (TRACKHOOK_SHOP_NAME, or a display name in TRACKHOOK_MAIL_FROM): emails and texts name no sender")
	}

	if roles&roleWorker != 0 {
		stop, err := startWorker(cfg, now, rdb, target, batch, store, notify, optOut, op, log, tmpl)
		if err != nil {
			for _, s := range stops {
				s()
			}
			return err
		}
		stops = append(stops, stop)
	}
	if roles == roleWorker {
		// No receiver to answer probes and scrapes: a small server does.
		addr, stop, err := listen(cfg.Addr, workerHandler(store.Ping, op.scrape), log, errc)
		if err != nil {
			for _, s := range stops {
				s()
			}
			return err
		}
		log.Info("worker health and metrics listening", "addr", addr.String())
		stops = append(stops, stop)
	}
	if roles&roleReceiver != 0 {
		stop, err := startReceiver(ctx, cfg, now, rdb, batch, store, notify, optOut, op, log, errc, tmpl)
		if err != nil {
			for _, s := range stops {
				s()
			}
			return err
		}
		stops = append(stops, stop)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errc:
		log.Error("stopping after a fatal error", "err", err)
	}
	// Stop in reverse order: the receiver first (no new work), then the worker.
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	log.Info("stopped")
	return err
}

func startReceiver(ctx context.Context, cfg *config, now func() time.Time, rdb redis.UniversalClient, batch *groupcommit.Batcher, store *tracking.Store, notify *state.Store, optOut *optout.Handler, op ops, log *slog.Logger, errc chan<- error, tmpl *templates.Live) (func(), error) {
	carriers := carrier.Default()
	sources, err := buildSources(cfg, carriers, now)
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		log.Warn("no webhook source has a secret: every /webhooks/{source} answers 404 (set e.g. TRACKHOOK_AFTERSHIP_SECRET)")
	}
	// asynq's Client enqueues a task in one EVALSHA and waits for it: on
	// batch's client those of concurrent webhooks share pipelines.
	queueConn := batch.Client()
	client := asynq.NewClientFromRedisClient(queueConn)
	adminAPI, err := api.New(api.Config{Store: store, Notifications: notify, Carriers: carriers, MaxRecipients: cfg.MaxRecipients, Logger: log, Now: now,
		DeadLetters: dispatcher.NewDeadLetters(asynq.NewInspectorFromRedisClient(rdb)),
		Messages: &api.Messages{Templates: tmpl, Queue: client, ShopName: cfg.ShopName,
			Shipment: func(t *tracking.Tracking) dispatcher.Shipment { return receiver.ShipmentOf(carriers, t) }}})
	if err != nil {
		return nil, err
	}
	trackingMore, err := trackingmore.New(trackingmore.Config{Store: store, Carriers: carriers, MaxRecipients: cfg.MaxRecipients, Logger: log, Now: now})
	if err != nil {
		return nil, err
	}
	if len(cfg.APIKeys) == 0 {
		log.Warn("TRACKHOOK_API_KEYS is not set: the API refuses every call")
	}
	srv, err := receiver.New(receiver.Config{Store: store, Queue: client, Sources: sources, Carriers: carriers, Logger: log,
		API: adminAPI, TrackingMore: trackingMore, APIKeys: api.NewKeys(cfg.APIKeys), OptOut: optOut,
		WebhookLimit: ratelimit.New(rdb, cfg.WebhookRate, int(2*cfg.WebhookRate)).Batched(batch),
		APILimit:     ratelimit.New(rdb, cfg.APIRate, int(2*cfg.APIRate)),
		Metrics:      op.scrape, Admin: op.admin, Observer: op.metrics, Enqueuers: enqueuers, DeliveryLog: notify})
	if err != nil {
		return nil, err
	}
	addr, stopHTTP, err := listen(cfg.Addr, srv, log, errc)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	log.Info("receiver listening", "addr", addr.String(), "sources", strings.Join(names, ","), "public_url", cfg.PublicURL.String())

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		srv.RunSweeper(sweepCtx, sweepInterval, sweepGrace)
	}()

	return func() {
		stopHTTP()
		srv.Close() // hand over the jobs of the webhooks answered
		stopSweep()
		<-sweepDone
		_ = queueConn.Close()
	}, nil
}

func startWorker(cfg *config, now func() time.Time, rdb redis.UniversalClient, target *redisTarget, batch *groupcommit.Batcher, store *tracking.Store, notify *state.Store, optOut *optout.Handler, op ops, log *slog.Logger, tmpl *templates.Live) (func(), error) {
	var closers []func() error
	var email dispatcher.EmailSender
	if cfg.SMTP != nil {
		s, err := mailer.NewSMTP(*cfg.SMTP)
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_SMTP_URL: %w", err)
		}
		closers = append(closers, s.Close)
		email = s
		log.Info("email via SMTP", "host", cfg.SMTP.Host, "port", cfg.SMTP.Port, "tls", string(cfg.SMTP.TLS))
	} else {
		d, err := mailer.NewDir(cfg.OutboxDir)
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_OUTBOX_DIR: %w", err)
		}
		email = d
		log.Warn("TRACKHOOK_SMTP_URL is not set: emails are written as .eml files, not sent", "dir", cfg.OutboxDir)
	}
	var text dispatcher.SMSSender
	if cfg.Twilio != nil {
		tc := *cfg.Twilio
		tc.Now = now
		t, err := sms.NewTwilio(tc)
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_TWILIO_*: %w", err)
		}
		text = t
		log.Info("SMS via the Twilio Messages API", "base_url", cfg.Twilio.BaseURL)
	} else {
		d, err := sms.NewDir(cfg.OutboxDir)
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_OUTBOX_DIR: %w", err)
		}
		text = d
		log.Warn("TRACKHOOK_TWILIO_* is not set: SMS are written as text files, not sent", "dir", cfg.OutboxDir)
	}
	rescuer := dispatcher.NewRescuer(rdb, nil, log)
	closers = append(closers, rescuer.Close)
	h, err := dispatcher.NewHandler(dispatcher.Config{
		Rescuer:   rescuer,
		Templates: tmpl, Email: email, SMS: text, Ledger: notify, Gate: notify.Gate(store), DeliveryLog: notify, UnsubscribeURL: optOut.UnsubscribeURL,
		From: cfg.MailFrom, MessageIDDomain: domainOf(cfg.MailFrom), ShopName: cfg.ShopName, Logger: log,
		Observer: op.metrics, MaxInDoubt: cfg.MaxInDoubt, QuietHours: quietHours(cfg.QuietHours), Now: now,
		OrderWait: cfg.OrderWait, Orders: store,
	})
	if err != nil {
		return nil, err
	}
	// Email has a worker pool of its own, and SMS and the rules share
	// another. One server polling all three queues tried them in a random
	// order, one Lua call each, and so made about two calls to find each
	// email while no SMS was due (a third of the worker's Redis calls);
	// and a slow SMS provider could hold every worker, email's too.
	//
	// The servers find each task in one Lua call and mark it done in
	// another, and wait for each: on a client of their own whose single
	// commands go through batch, those of concurrent workers (and of the
	// ledger's steps) share pipelines. The client keeps connections of
	// its own for the servers' subscription to cancellations.
	serverConn := target.newClient()
	serverConn.AddHook(batch.Hook())
	closers = append(closers, serverConn.Close)
	newServer := func(queues map[string]int, concurrency int) *asynq.Server {
		return asynq.NewServerFromRedisClient(serverConn, asynq.Config{
			Concurrency:    concurrency,
			Queues:         queues,
			RetryDelayFunc: dispatcher.RetryDelay(cfg.RetryBaseDelay, time.Hour),
			IsFailure:      dispatcher.IsFailure,
			// An idle server looks for new tasks this often: the latency a
			// notification queued into an empty queue waits, for a Lua call
			// 40 times a second per server while there is nothing to do
			// (five servers: 200 a second, a few milliseconds of Redis).
			TaskCheckInterval:        25 * time.Millisecond,
			DelayedTaskCheckInterval: time.Second,
			ShutdownTimeout:          shutdownTimeout,
			Logger:                   newAsynqLogger(log),
			LogLevel:                 asynq.WarnLevel,
		})
	}
	// asynq's server finds tasks one at a time, each waiting for its
	// Lua call, so one server takes at most one task per Redis round
	// trip; under load, with that call in a pipeline behind others, about
	// a thousand a second, whatever its concurrency. The email pool is
	// therefore served by a few servers that share its concurrency and
	// look for tasks side by side.
	var srv workers
	for _, n := range splitPool(cfg.Concurrency, emailFetchers) {
		srv = append(srv, newServer(map[string]int{dispatcher.QueueEmail: 1}, n))
	}
	srv = append(srv, newServer(map[string]int{dispatcher.QueueSMS: 1, receiver.QueueRules: 1}, cfg.Concurrency))
	mux := asynq.NewServeMux()
	dispatcher.Register(mux, h)
	ruleClient := asynq.NewClientFromRedisClient(rdb)
	closers = append(closers, ruleClient.Close)
	timed, err := receiver.NewRules(receiver.RulesConfig{Store: store, Queue: ruleClient, Carriers: carrier.Default(), Stuck: store.Stuck(), Late: store.Late(), Logger: log})
	if err != nil {
		return nil, err
	}
	mux.HandleFunc(receiver.TypeRulesTick, timed.ProcessTick)
	if err := srv.start(mux); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	// Every worker runs the scheduler; the tick is unique for a little less
	// than its interval, so it is queued once per interval, not once per
	// worker.
	sched := asynq.NewSchedulerFromRedisClient(rdb, &asynq.SchedulerOpts{Logger: newAsynqLogger(log), LogLevel: asynq.WarnLevel})
	if _, err := sched.Register(fmt.Sprintf("@every %ds", int(receiver.RulesInterval/time.Second)), asynq.NewTask(receiver.TypeRulesTick, nil),
		asynq.Queue(receiver.QueueRules), asynq.Unique(receiver.RulesInterval-5*time.Second), asynq.MaxRetry(0), asynq.Timeout(receiver.RulesInterval)); err != nil {
		srv.shutdown()
		return nil, fmt.Errorf("schedule the notification rules: %w", err)
	}
	if err := sched.Start(); err != nil {
		srv.shutdown()
		return nil, fmt.Errorf("start the rules scheduler: %w", err)
	}
	log.Info("worker started", "concurrency", cfg.Concurrency, "locales", strings.Join(tmpl.Set().Locales(), ","), "notify_statuses", cfg.Triggers.String())
	rescueCtx, stopRescue := context.WithCancel(context.Background())
	rescueDone := make(chan struct{})
	go func() {
		defer close(rescueDone)
		rescuer.Run(rescueCtx, rescueInterval)
	}()
	return func() {
		stopRescue()
		<-rescueDone
		sched.Shutdown()
		srv.shutdown()
		for _, c := range closers {
			_ = c()
		}
	}, nil
}

// workers are the asynq servers of one worker process, each polling its own
// queues with its own pool of TRACKHOOK_WORKER_CONCURRENCY.
type workers []*asynq.Server

// emailFetchers is how many asynq servers share the email pool. Each has
// one Lua call to find a task in flight at a time. Under 1,000 webhooks/s
// with their emails four leave part of the pool waiting for that call
// (asynq's active list held 4–14 of 20 tasks while the queue grew), and ten
// kept up (drain 1,250–1,510 → 1,800–1,880 emails/s, end-to-end p99
// 1.4–2.9 → 0.5–0.6 s); but ten also drained the backlog after a restart
// so fast that more sends were in doubt at each SIGKILL, and the fault
// suite's kill scenario duplicated 18–19 of 3,200 (bound 16). Four until
// the in-doubt window is shorter.
const emailFetchers = 4

// splitPool shares a pool of size tasks among at most n servers, as evenly
// as it goes: each gets at least one.
func splitPool(size, n int) []int {
	n = max(1, min(n, size))
	out := make([]int, n)
	for i := range out {
		out[i] = size / n
		if i < size%n {
			out[i]++
		}
	}
	return out
}

// start starts every server on mux; if one fails, those started are shut
// down.
func (w workers) start(mux *asynq.ServeMux) error {
	for i, s := range w {
		if err := s.Start(mux); err != nil {
			workers(w[:i]).shutdown()
			return err
		}
	}
	return nil
}

// shutdown stops the servers at once, each waiting up to its shutdown
// timeout for the tasks it runs.
func (w workers) shutdown() {
	var wg sync.WaitGroup
	for _, s := range w {
		wg.Go(s.Shutdown)
	}
	wg.Wait()
}

// reloadOnHangup reloads the templates on SIGHUP: the new ones are used from
// the next render on, renders under way finish with the old ones, and a
// broken edit is logged with its file and line while the old ones stay.
// A receiver alone reloads them too: its API previews messages.
func reloadOnHangup(tmpl *templates.Live, log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := tmpl.Reload(); err != nil {
					log.Error("SIGHUP: templates not reloaded, the previous ones stay in use", "err", err)
					continue
				}
				log.Info("SIGHUP: templates reloaded", "locales", strings.Join(tmpl.Set().Locales(), ","))
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

// newOptOut builds the unsubscribe links and the inbound-SMS handler. The
// link-signing key is TRACKHOOK_UNSUBSCRIBE_SECRET, or else a random key kept
// in Redis and shared by every instance. That one is loaded when Redis
// answers: a process started while Redis is down serves (503 where Redis is
// needed) and loads the key once Redis is back.
func newOptOut(ctx context.Context, cfg *config, store *tracking.Store, notify *state.Store, log *slog.Logger) (*optout.Handler, error) {
	oc := optout.Config{Trackings: store, Suppressions: notify, PublicURL: cfg.PublicURL, Logger: log}
	if cfg.UnsubscribeSecret != "" {
		tokens, err := optout.NewTokens([]byte(cfg.UnsubscribeSecret))
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_UNSUBSCRIBE_SECRET: %w", err)
		}
		oc.Tokens = tokens
	} else {
		oc.LoadKey = func(ctx context.Context) ([]byte, error) { return store.Secret(ctx, "unsubscribe") }
	}
	if cfg.Twilio != nil {
		tw, err := signature.NewTwilio([]string{cfg.Twilio.AuthToken})
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_TWILIO_AUTH_TOKEN: %w", err)
		}
		oc.Twilio = tw
	}
	h, err := optout.New(oc)
	if err != nil {
		return nil, err
	}
	if oc.LoadKey != nil {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := h.LoadKey(lctx); err != nil {
			log.Warn("the unsubscribe-link key is kept in Redis and is not loaded yet; it will be when Redis answers (until then emails wait and unsubscribe pages answer 503)")
		}
	}
	return h, nil
}

// displayName is the name part of "Shop <noreply@shop.example>".
func displayName(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.Name
	}
	return ""
}

func domainOf(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		return strings.TrimRight(from[i+1:], "> ")
	}
	return ""
}

// newLogger logs at level and above, as text or JSON (TRACKHOOK_LOG_FORMAT);
// with no format given, text when w is a terminal and JSON otherwise.
func newLogger(w io.Writer, format logFormat, level slog.Level) *slog.Logger {
	if format == logAuto {
		format = logJSON
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = logText
			}
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == logText {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// quietHours is the SMS quiet hours w, or nil (a nil *quiet.Hours in the
// interface would not be nil). Numbers of no known time zone go by the
// server's (TZ).
func quietHours(w *quiet.Window) dispatcher.QuietHours {
	if w == nil {
		return nil
	}
	return quiet.New(*w, time.Local)
}
