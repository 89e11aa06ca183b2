package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// On a shared machine a figure means little without knowing who had the
// CPUs meanwhile, so each measurement also reports the CPU cores used by
// trackhook, redis-server, this bench (load generator, baseline, SMTP
// server) and everything else on the machine.

// clockTick is USER_HZ, the unit of /proc CPU times: 100 on every Linux
// platform Go supports.
const clockTick = 10 * time.Millisecond

// busyOther is how much CPU other work may use during a measurement before
// the report flags it (⚠) as skewed.
const busyOther = 0.25

// cpuUse is CPU cores (CPU seconds per second) used during a window.
type cpuUse struct {
	trackhook, redis, bench, other float64
	ok                             bool
}

// skewed says other work used enough CPU to make the figures unreliable.
func (u cpuUse) skewed() bool { return u.ok && u.other > busyOther }

// perOp is the CPU time of trackhook, redis-server and the bench together
// (everything this run started) per operation at rate ops/s: a figure that
// moves less than rates do when other work competes for the CPUs.
func (u cpuUse) perOp(rate float64) string {
	if !u.ok || rate <= 0 {
		return "–"
	}
	us := (u.trackhook + u.redis + u.bench) / rate * 1e6
	return fmt.Sprintf("%.0f µs", us)
}

func (u cpuUse) String() string {
	if !u.ok {
		return "–"
	}
	warn := ""
	if u.skewed() {
		warn = " ⚠"
	}
	return fmt.Sprintf("%.2f / %.2f / %.2f / %.2f%s", u.trackhook, u.redis, u.bench, u.other, warn)
}

type cpuSnap struct {
	at                               time.Time
	trackhook, redis, bench, machine time.Duration
	ok                               bool
}

// cpuNow snapshots the CPU time used so far by trackhook (pid, or 0 when
// none runs), redis-server, this process and the whole machine.
func cpuNow(trackhook, redis int) cpuSnap {
	s := cpuSnap{at: time.Now(), ok: true}
	var err error
	if trackhook != 0 {
		if s.trackhook, err = procCPU(strconv.Itoa(trackhook)); err != nil {
			s.ok = false
		}
	}
	if s.redis, err = procCPU(strconv.Itoa(redis)); err != nil {
		s.ok = false
	}
	if s.bench, err = procCPU("self"); err != nil {
		s.ok = false
	}
	if s.machine, err = machineCPU(); err != nil {
		s.ok = false
	}
	return s
}

func cpuBetween(a, b cpuSnap) cpuUse {
	wall := b.at.Sub(a.at).Seconds()
	if !a.ok || !b.ok || wall <= 0 {
		return cpuUse{}
	}
	f := func(d time.Duration) float64 { return d.Seconds() / wall }
	u := cpuUse{trackhook: f(b.trackhook - a.trackhook), redis: f(b.redis - a.redis), bench: f(b.bench - a.bench), ok: true}
	u.other = max(f(b.machine-a.machine)-u.trackhook-u.redis-u.bench, 0)
	return u
}

// procCPU is user + system time of a process (all its threads).
func procCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields after its
	// closing parenthesis are fixed: state is field 3, utime 14, stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%s/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%s/stat", pid)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// machineCPU is the busy time of all CPUs together (everything but idle and
// iowait) from /proc/stat.
func machineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("malformed /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// cpuWindow measures CPU use from after delay until the returned func is
// called; trackhook is its pid, or 0.
func (b *bench) cpuWindow(trackhook int, delay time.Duration) func() cpuUse {
	first := make(chan cpuSnap, 1)
	go func() {
		time.Sleep(delay)
		first <- cpuNow(trackhook, b.redis.cmd.Process.Pid)
	}()
	return func() cpuUse {
		end := cpuNow(trackhook, b.redis.cmd.Process.Pid)
		return cpuBetween(<-first, end)
	}
}

// redisUse is what redis-server did in a window: commands run, by name, and
// the microseconds it spent in each (INFO commandstats).
type redisUse struct {
	calls, usec map[string]int64
}

// total is the commands run in the window.
func (u redisUse) total() int64 {
	var n int64
	for _, c := range u.calls {
		n += c
	}
	return n
}

// top names the commands that took most of Redis's time, with calls per
// op (a webhook) and µs per op.
func (u redisUse) top(ops float64, n int) string {
	type row struct {
		name        string
		calls, usec int64
	}
	var rows []row
	for name, c := range u.calls {
		rows = append(rows, row{name, c, u.usec[name]})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].usec > rows[j].usec })
	var parts []string
	for i, r := range rows {
		if i == n || ops <= 0 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.2f (%.1f µs)", r.name, float64(r.calls)/ops, float64(r.usec)/ops))
	}
	return strings.Join(parts, ", ")
}

// redisWindow snapshots INFO commandstats after delay; the returned func
// snapshots again and returns the difference.
func (b *bench) redisWindow(delay time.Duration) func() redisUse {
	first := make(chan redisUse, 1)
	go func() {
		time.Sleep(delay)
		first <- commandStats(b.rdb)
	}()
	return func() redisUse {
		end := commandStats(b.rdb)
		return end.since(<-first)
	}
}

// since is what Redis ran between the snapshots start and u.
func (u redisUse) since(start redisUse) redisUse {
	d := redisUse{calls: map[string]int64{}, usec: map[string]int64{}}
	for name, c := range u.calls {
		if c -= start.calls[name]; c > 0 {
			d.calls[name] = c
			d.usec[name] = u.usec[name] - start.usec[name]
		}
	}
	return d
}

// commandStats parses INFO commandstats: "cmdstat_get:calls=1,usec=2,...".
func commandStats(rdb *redis.Client) redisUse {
	u := redisUse{calls: map[string]int64{}, usec: map[string]int64{}}
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return u
	}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		name = strings.TrimPrefix(name, "cmdstat_")
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				u.calls[name] = n
			case "usec":
				u.usec[name] = n
			}
		}
	}
	return u
}
