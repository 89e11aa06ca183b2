package metrics

import (
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Inspector is what QueueCollector needs of asynq.Inspector.
type Inspector interface {
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// QueueCollector reports asynq's queues as asynq.Inspector sees them. The
// numbers describe the shared Redis, not this process: every process that
// runs it reports the same values, so aggregate them with max, not sum.
//
// Reading them costs a few Redis round trips per queue. A scrape waits at
// most timeout for them; when Redis is slow or down it reports
// trackhook_queue_stats_up 0 instead of hanging, and at most one read is in
// flight at a time.
type QueueCollector struct {
	insp    Inspector
	timeout time.Duration
	busy    chan struct{} // holds a token while a read is in flight

	up, tasks, latency, paused, memory, processed, failed *prometheus.Desc
}

// NewQueueCollector returns a collector reading from insp.
func NewQueueCollector(insp Inspector, timeout time.Duration) *QueueCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", name), help, labels, nil)
	}
	return &QueueCollector{
		insp: insp, timeout: timeout, busy: make(chan struct{}, 1),
		up:        d("stats_up", "1 if the queue statistics could be read from Redis at this scrape, else 0."),
		tasks:     d("tasks", "Tasks in the queue by state: pending, active, scheduled, retry, archived (dead letters), completed, aggregating.", "queue", "state"),
		latency:   d("latency_seconds", "Age of the oldest pending task.", "queue"),
		paused:    d("paused", "1 if the queue is paused (from the dashboard), else 0.", "queue"),
		memory:    d("memory_usage_bytes", "Approximate Redis memory used by the queue and its tasks (sampled by asynq).", "queue"),
		processed: d("processed_total", "Tasks processed (succeeded or failed) since the queue was created, by every worker.", "queue"),
		failed:    d("failed_total", "Task runs that failed since the queue was created, by every worker.", "queue"),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.tasks, c.latency, c.paused, c.memory, c.processed, c.failed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	select {
	case c.busy <- struct{}{}:
	default: // the previous read is still stuck on Redis
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	done := make(chan []prometheus.Metric, 1)
	go func() {
		defer func() { <-c.busy }()
		done <- c.read()
	}()
	select {
	case ms := <-done:
		if ms == nil {
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
		for _, m := range ms {
			ch <- m
		}
	case <-time.After(c.timeout):
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
	}
}

// read returns the queue metrics, or nil when Redis could not be read.
func (c *QueueCollector) read() []prometheus.Metric {
	queues, err := c.insp.Queues()
	if err != nil {
		return nil
	}
	ms := []prometheus.Metric{}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			return nil
		}
		for _, s := range []struct {
			state string
			n     int
		}{
			{"pending", info.Pending}, {"active", info.Active}, {"scheduled", info.Scheduled}, {"retry", info.Retry},
			{"archived", info.Archived}, {"completed", info.Completed}, {"aggregating", info.Aggregating},
		} {
			gauge(c.tasks, float64(s.n), q, s.state)
		}
		gauge(c.latency, info.Latency.Seconds(), q)
		paused := 0.0
		if info.Paused {
			paused = 1
		}
		gauge(c.paused, paused, q)
		gauge(c.memory, float64(info.MemoryUsage), q)
		ms = append(ms,
			prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(info.ProcessedTotal), q),
			prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(info.FailedTotal), q))
	}
	return ms
}
