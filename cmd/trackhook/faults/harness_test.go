package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
	"github.com/trackhook/trackhook/dispatcher/twiliotest"
	"github.com/trackhook/trackhook/receiver/redistest"
)

// workerConcurrency is trackhook's default: notification tasks at once.
const workerConcurrency = 20

const (
	webhookSecret = "faults-aftership-secret"
	twilioSID     = "AC00000000000000000000000000000fa1"
	twilioToken   = "faults-twilio-token"
	smtpUser      = "mailer"
	smtpPass      = "mail-pass"
	mailFrom      = "Shop <noreply@shop.example>"
)

// moduleRoot is the directory holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v (the suite builds the trackhook binary with the go command, which must be on PATH)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not inside the trackhook module")
	}
	return filepath.Dir(gomod)
}

// buildTrackhook builds the real binary once. It is built without the race
// detector even when the suite runs under -race (five instrumented servers
// under load starve a 2-core machine; the in-process end-to-end tests run the
// same code under -race): TRACKHOOK_FAULTS_RACE=1 builds it with -race, and a
// data race it reports fails the suite. TRACKHOOK_FAULTS_BIN names a binary
// to test instead (a release build, say).
func buildTrackhook(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TRACKHOOK_FAULTS_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("TRACKHOOK_FAULTS_BIN: %v", err)
		}
		t.Logf("testing %s (TRACKHOOK_FAULTS_BIN)", bin)
		return bin
	}
	root := moduleRoot(t)
	bin := filepath.Join(t.TempDir(), "trackhook")
	race := os.Getenv("TRACKHOOK_FAULTS_RACE") == "1"
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/trackhook")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built %s (race=%v) in %v", bin, race, time.Since(start).Round(time.Millisecond))
	return bin
}

// env is one scenario's world: a redis-server, an SMTP server, a
// Twilio-speaking server and the trackhook child process between them.
type env struct {
	t     *testing.T
	name  string
	bin   string
	redis *redistest.Server
	rdb   *redis.Client
	insp  *asynq.Inspector
	smtp  *smtptest.Server
	sms   *twiliotest.Server
	addr  string
	base  string
	vars  []string

	logPath string
	logFile *os.File

	mu     sync.Mutex
	proc   *child
	starts int
	kills  []time.Time // when the process got SIGKILL
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait, valid once done is closed
}

type envOptions struct {
	smtp []smtptest.Option
}

func newEnv(t *testing.T, name, bin string, o envOptions) *env {
	t.Helper()
	e := &env{t: t, name: name, bin: bin}
	// appendfsync always: every write Redis acknowledged is on disk, so
	// killing Redis loses nothing trackhook was told is stored.
	e.redis = redistest.Start(t, "--appendfsync", "always")
	e.rdb = redis.NewClient(&redis.Options{Addr: e.redis.Addr(), PoolSize: 4})
	t.Cleanup(func() { e.rdb.Close() })
	e.insp = asynq.NewInspectorFromRedisClient(e.rdb)
	e.smtp = smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithAuth(smtpUser, smtpPass)}, o.smtp...)...)
	e.sms = twiliotest.NewServer(t, twilioSID, twilioToken)
	e.addr = freeAddr(t)
	e.base = "http://" + e.addr

	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRACKHOOK_") {
			e.vars = append(e.vars, kv)
		}
	}
	e.vars = append(e.vars,
		"TRACKHOOK_ADDR="+e.addr,
		"TRACKHOOK_PUBLIC_URL="+e.base,
		"TRACKHOOK_REDIS_URL="+e.redis.URL(),
		"TRACKHOOK_SMTP_URL="+e.smtp.URL(), // tls=none on loopback, with AUTH PLAIN
		"TRACKHOOK_MAIL_FROM="+mailFrom,
		"TRACKHOOK_TWILIO_ACCOUNT_SID="+twilioSID,
		"TRACKHOOK_TWILIO_AUTH_TOKEN="+twilioToken,
		"TRACKHOOK_TWILIO_FROM=+15005550006",
		"TRACKHOOK_TWILIO_BASE_URL="+e.sms.URL(),
		"TRACKHOOK_OUTBOX_DIR="+t.TempDir(),
		"TRACKHOOK_AFTERSHIP_SECRET="+webhookSecret,
		"TRACKHOOK_RETRY_BASE_DELAY=200ms",
		"TRACKHOOK_SMS_QUIET_HOURS=off", // the load runs at any hour
		// Delivered messages wait 3 s as scheduled tasks: kills and
		// outages must not lose them either (no status follows Delivered,
		// so none is superseded and all stay due).
		"TRACKHOOK_NOTIFY_DELAYS=Delivered=3s",
		"TRACKHOOK_WORKER_CONCURRENCY="+strconv.Itoa(workerConcurrency),
	)

	e.logPath = filepath.Join(t.TempDir(), "trackhook.log")
	f, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	e.logFile = f
	t.Cleanup(func() {
		e.stopAtEnd()
		f.Close()
	})
	return e
}

// start launches trackhook serve and waits until /readyz answers 200. It
// must run on the test's goroutine; others use tryStart.
func (e *env) start() {
	e.t.Helper()
	if err := e.tryStart(); err != nil {
		e.t.Fatalf("%v\n%s", err, e.logTail(40))
	}
}

// tryStart launches trackhook serve and waits until /readyz answers 200.
func (e *env) tryStart() error {
	begin := time.Now()
	e.mu.Lock()
	e.starts++
	n := e.starts
	e.mu.Unlock()
	fmt.Fprintf(e.logFile, "=== faults: start #%d at %s\n", n, begin.Format(time.RFC3339Nano))
	cmd := exec.Command(e.bin, "serve")
	cmd.Env = e.vars
	cmd.Stdout, cmd.Stderr = e.logFile, e.logFile
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start trackhook: %w", err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	e.mu.Lock()
	e.proc = c
	e.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-c.done:
			return fmt.Errorf("trackhook exited during start-up: %v", c.err)
		default:
		}
		if resp, err := client.Get(e.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("trackhook did not answer /readyz with 200 within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (e *env) kill() {
	e.mu.Lock()
	c := e.proc
	e.kills = append(e.kills, time.Now())
	e.mu.Unlock()
	fmt.Fprintf(e.logFile, "=== faults: SIGKILL at %s\n", time.Now().Format(time.RFC3339Nano))
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// term sends SIGTERM and waits (at most limit) for the process to exit; it
// returns how long that took and the exit error (nil for status 0).
func (e *env) term(limit time.Duration) (time.Duration, error) {
	e.mu.Lock()
	c := e.proc
	e.mu.Unlock()
	fmt.Fprintf(e.logFile, "=== faults: SIGTERM at %s\n", time.Now().Format(time.RFC3339Nano))
	begin := time.Now()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return time.Since(begin), c.err
	case <-time.After(limit):
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.done
		return time.Since(begin), fmt.Errorf("did not exit within %v after SIGTERM (killed)", limit)
	}
}

// stopAtEnd stops the process at the end of the test (SIGTERM, then
// SIGKILL).
func (e *env) stopAtEnd() {
	e.mu.Lock()
	c := e.proc
	e.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		<-c.done
	}
}

// exited reports whether the current process has exited, and how; an
// unexpected exit (a panic, a fatal error) shows here.
func (e *env) exited() (bool, error) {
	e.mu.Lock()
	c := e.proc
	e.mu.Unlock()
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

func (e *env) killCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.kills)
}

func (e *env) killTimes() []time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Time(nil), e.kills...)
}

// queueBusy is the number of notify tasks pending, active (including those
// whose worker was killed and whose lease has not been reclaimed yet),
// scheduled or waiting for a retry.
func (e *env) queueBusy() (int, error) {
	n := 0
	for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
		info, err := e.insp.GetQueueInfo(q)
		if err != nil {
			if errors.Is(err, asynq.ErrQueueNotFound) {
				continue // a queue that never had a task does not exist
			}
			return 0, err
		}
		n += info.Pending + info.Active + info.Scheduled + info.Retry
	}
	return n, nil
}

func (e *env) activeTasks() (int, error) {
	n := 0
	for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
		info, err := e.insp.GetQueueInfo(q)
		if err != nil {
			if errors.Is(err, asynq.ErrQueueNotFound) {
				continue
			}
			return 0, err
		}
		n += info.Active
	}
	return n, nil
}

// The outbox keys, as receiver/tracking/keys.go builds them: the index of
// trackings that may hold unenqueued jobs, and each tracking's outbox hash.
const outboxIndexKey = "trackhook:outbox"

func outboxKey(trackingID string) string { return "trackhook:{" + trackingID + "}:outbox" }

// outboxLeft is the number of jobs still in outboxes: stored with their
// webhook, not yet known to be enqueued; the sweeper's work.
func (e *env) outboxLeft(ctx context.Context) (int, error) {
	ids, err := e.rdb.ZRange(ctx, outboxIndexKey, 0, -1).Result()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	pipe := e.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HLen(ctx, outboxKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	return n, nil
}

// serverEvents is everything the two servers recorded: messages accepted,
// transactions refused, requests received.
func (e *env) serverEvents() int {
	return len(e.smtp.Messages()) + len(e.sms.Messages()) + e.smtp.Rejected() + e.sms.Requests()
}

// waitQuiet waits until nothing more can arrive, as Redis and the servers
// record it, not for a spell in which nothing arrived: no job left in an
// outbox, then no notify task pending, active (a killed worker's task stays
// active until its lease is reclaimed), scheduled or retrying, and no event
// at either server while it looked. The order makes one look enough: a job
// leaves its outbox only once its task is enqueued, and a task leaves the
// queue only after its provider answered, which the servers record. It
// returns how long that took, or why it is not quiet after timeout.
func (e *env) waitQuiet(timeout time.Duration) (time.Duration, string) {
	begin := time.Now()
	ctx := context.Background()
	why := ""
	for {
		before := e.serverEvents()
		left, err2 := e.outboxLeft(ctx)
		busy, err1 := e.queueBusy()
		changed := e.serverEvents() != before
		switch {
		case err1 != nil:
			why = "queue inspection: " + err1.Error()
		case err2 != nil:
			why = "outbox inspection: " + err2.Error()
		case busy > 0:
			why = fmt.Sprintf("%d tasks pending/active/scheduled/retrying", busy)
		case left > 0:
			why = fmt.Sprintf("%d jobs left in outboxes", left)
		case changed:
			why = "messages still arriving"
		default:
			return time.Since(begin), ""
		}
		if dead, err := e.exited(); dead {
			return time.Since(begin), fmt.Sprintf("trackhook exited unexpectedly: %v", err)
		}
		if time.Since(begin) > timeout {
			return time.Since(begin), "not quiet after " + timeout.String() + ": " + why
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// logScan is what the child's logs say: fatal signs, the request ids of the
// webhooks it stored, and per task id how often it logged a notification as
// sent (after recording it in the ledger) or as not recorded.
type logScan struct {
	panics     []string // lines with panic:, fatal error: or DATA RACE
	applied    map[string]bool
	sent       map[string]int
	unrecorded map[string]int
	timeouts   map[string][]string // task id → "failed temporarily" errors that were timeouts
}

func (e *env) scanLogs() logScan {
	s := logScan{applied: map[string]bool{}, sent: map[string]int{}, unrecorded: map[string]int{}, timeouts: map[string][]string{}}
	f, err := os.Open(e.logPath)
	if err != nil {
		e.t.Errorf("read logs: %v", err)
		return s
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte("panic:")) || bytes.HasPrefix(line, []byte("fatal error:")) || bytes.Contains(line, []byte("WARNING: DATA RACE")) {
			s.panics = append(s.panics, string(line))
		}
		var rec struct {
			Time      string `json:"time"`
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			TaskID    string `json:"task_id"`
			Err       string `json:"err"`
		}
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &rec) != nil {
			continue
		}
		switch rec.Msg {
		case "webhook applied":
			s.applied[rec.RequestID] = true
		case "notification sent":
			s.sent[rec.TaskID]++
		case "notification sent but not recorded in the ledger":
			s.unrecorded[rec.TaskID]++
		case "notification failed temporarily; will retry":
			if strings.Contains(rec.Err, "timeout") || strings.Contains(rec.Err, "deadline exceeded") {
				s.timeouts[rec.TaskID] = append(s.timeouts[rec.TaskID], rec.Time+" "+rec.Err)
			}
		}
	}
	return s
}

// logTail is the last n lines of the child's logs.
func (e *env) logTail(n int) string {
	b, err := os.ReadFile(e.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// keepLogs copies the child's logs to dir (for a failed scenario).
func (e *env) keepLogs(dir string) string {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	dst := filepath.Join(dir, "faults-"+e.name+".log")
	src, err := os.Open(e.logPath)
	if err != nil {
		return ""
	}
	defer src.Close()
	out, err := os.Create(dst)
	if err != nil {
		return ""
	}
	defer out.Close()
	if _, err := io.Copy(out, src); err != nil {
		return ""
	}
	return dst
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
