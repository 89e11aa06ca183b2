// Package metrics is trackhook's Prometheus instrumentation: the counters
// and histograms behind receiver.Observer and dispatcher.Observer, and a
// collector of asynq queue sizes. Everything is registered on a registry the
// caller creates (cmd/trackhook, once per process); nothing here is global.
//
// Label values come only from fixed sets (source names from the registry,
// outcomes, reasons, channels, queue names): never a recipient, a secret or
// anything a stranger can choose.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/tracking"
)

const namespace = "trackhook"

// Metrics implements receiver.Observer and dispatcher.Observer.
type Metrics struct {
	webhooks      *prometheus.CounterVec
	verifyFails   *prometheus.CounterVec
	apply         prometheus.Histogram
	dropped       *prometheus.CounterVec
	notifications *prometheus.CounterVec
	suppressed    *prometheus.CounterVec
	delayed       *prometheus.CounterVec
	retries       *prometheus.CounterVec
	send          *prometheus.HistogramVec
	segments      *prometheus.HistogramVec
}

var (
	_ receiver.Observer   = (*Metrics)(nil)
	_ dispatcher.Observer = (*Metrics)(nil)
)

// NewRegistry returns a registry with the Go runtime and process collectors
// and trackhook_build_info{version}.
func NewRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "build_info",
			Help:        "Always 1; the version label is the running trackhook version.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	return reg
}

// New registers trackhook's own metrics on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhooks_total",
			Help: "Webhook requests by source and outcome: created, updated, duplicate, stale, ignored, ping (answered 2xx), " +
				"or the reason they were rejected: unknown_source, rate_limited, too_large, read_failed, bad_signature, malformed, store_unavailable.",
		}, []string{"source", "outcome"}),
		verifyFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_verification_failures_total",
			Help: "Webhook signatures that did not verify, by source and reason: no_signature, malformed_header, mismatch, too_old, too_new, unknown_key, key_unavailable, other.",
		}, []string{"source", "reason"}),
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "webhook_apply_duration_seconds",
			Help:    "Time to apply one tracking event to the Redis state (dedupe, fold, outbox), failures included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_recipients_dropped_total",
			Help: "Subscriber entries left out of webhooks that were stored (answered 2xx), by source and channel (email, sms): " +
				"not a valid address or number, a line break or control character, or past the first 100 of a list.",
		}, []string{"source", "channel"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_total",
			Help: "Notify task runs by channel (email, sms) and outcome: sent, failed_temporary (retried), failed_permanent (archived), skipped (delivered before, removed, unsubscribed or on the suppression list), deferred (SMS quiet hours), suppressed (superseded within its delay).",
		}, []string{"channel", "outcome"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_suppressed_total",
			Help: "Notifications a rule held back, by channel and reason: stale (the event was older than TRACKHOOK_STALE_AFTER), first_delivered (the first status heard of was Delivered), superseded (a later status came within the delay).",
		}, []string{"channel", "reason"}),
		delayed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_delayed_total",
			Help: "Notifications held for their status's delay (TRACKHOOK_NOTIFY_DELAYS), by channel; each is later sent or suppressed as superseded.",
		}, []string{"channel"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notification_retries_total",
			Help: "Notify task runs that retried an earlier failed run, by channel.",
		}, []string{"channel"}),
		send: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "notification_send_duration_seconds",
			Help:    "Time to render a notification and hand it to the SMTP server or SMS API, failures included, by channel.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		segments: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "sms_segments",
			Help:    "Segments each text handed to the SMS provider costs, by encoding (gsm7, ucs2); _sum is the segments billed. TRACKHOOK_SMS_MAX_SEGMENTS bounds them unless a link alone is longer.",
			Buckets: []float64{1, 2, 3, 4, 6, 10},
		}, []string{"encoding"}),
	}
	for _, c := range []prometheus.Collector{m.webhooks, m.verifyFails, m.apply, m.dropped, m.notifications, m.suppressed, m.delayed, m.retries, m.send, m.segments} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Known series start at zero, so rate() and alerts see them from the
	// first scrape rather than from the first event.
	for _, ch := range []dispatcher.Channel{dispatcher.ChannelEmail, dispatcher.ChannelSMS} {
		for _, o := range dispatcher.Outcomes() {
			m.notifications.WithLabelValues(string(ch), o.String())
		}
		m.retries.WithLabelValues(string(ch))
		m.delayed.WithLabelValues(string(ch))
		for _, r := range SuppressionReasons {
			m.suppressed.WithLabelValues(string(ch), r)
		}
	}
	m.segments.WithLabelValues("gsm7")
	m.segments.WithLabelValues("ucs2")
	return m, nil
}

// Webhook implements receiver.Observer.
func (m *Metrics) Webhook(source, outcome string) { m.webhooks.WithLabelValues(source, outcome).Inc() }

// VerificationFailed implements receiver.Observer.
func (m *Metrics) VerificationFailed(source, reason string) {
	m.verifyFails.WithLabelValues(source, reason).Inc()
}

// Applied implements receiver.Observer.
func (m *Metrics) Applied(d time.Duration) { m.apply.Observe(d.Seconds()) }

// RecipientDropped implements receiver.Observer.
func (m *Metrics) RecipientDropped(source, channel string) {
	m.dropped.WithLabelValues(source, channel).Inc()
}

// Notification implements dispatcher.Observer.
func (m *Metrics) Notification(c dispatcher.Channel, o dispatcher.Outcome) {
	m.notifications.WithLabelValues(string(c), o.String()).Inc()
}

// SMSSegments implements dispatcher.Observer.
func (m *Metrics) SMSSegments(segments int, gsm7 bool) {
	enc := "ucs2"
	if gsm7 {
		enc = "gsm7"
	}
	m.segments.WithLabelValues(enc).Observe(float64(segments))
}

// SuppressionReasons are the reasons of notifications_suppressed_total.
var SuppressionReasons = []string{tracking.SuppressedStale, tracking.SuppressedFirstDelivered, dispatcher.ReasonSuperseded}

// Suppressed implements dispatcher.Observer and receiver.Observer.
func (m *Metrics) Suppressed(c dispatcher.Channel, reason string) {
	m.suppressed.WithLabelValues(string(c), reason).Inc()
}

// Delayed implements receiver.Observer.
func (m *Metrics) Delayed(c dispatcher.Channel) { m.delayed.WithLabelValues(string(c)).Inc() }

// Retry implements dispatcher.Observer.
func (m *Metrics) Retry(c dispatcher.Channel) { m.retries.WithLabelValues(string(c)).Inc() }

// Sent implements dispatcher.Observer.
func (m *Metrics) Sent(c dispatcher.Channel, d time.Duration) {
	m.send.WithLabelValues(string(c)).Observe(d.Seconds())
}

// Handler serves reg in the Prometheus text format (GET /metrics). A
// collector that fails is logged and left out; the rest is still served.
func Handler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
		Timeout:       10 * time.Second,
	})
}
