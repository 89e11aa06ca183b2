package receiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
	"github.com/trackhook/trackhook/dispatcher/smtptest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/templates"
)

// Header injection, end to end: hostile values in every webhook field that
// reaches an email go through the real receiver, Redis, the notify task,
// the dispatcher's templates and go-mail, to a real SMTP server. The edge
// folds line breaks out of display fields (and refuses them in keys);
// whatever it lets through, the email that arrives has exactly one To, no
// Bcc, no header the benign email lacks, and a one-line Subject.

const victim = "kim@example.com"

// attacks are the ways to smuggle a header into a field. edge marks the
// ones holding a break (a control character, NUL, CR, LF, NEL, or a Unicode
// line separator): the webhook folds those to a space in display fields and
// refuses them in the tracking number. The others pass the edge as they are
// and must be defused downstream.
var attacks = []struct {
	name string
	v    string
	edge bool
}{
	{"CRLF Bcc", "x\r\nBcc: evil@attacker.example", true},
	{"LF Bcc", "x\nBcc: evil@attacker.example", true},
	{"CR Bcc", "x\rBcc: evil@attacker.example", true},
	{"CRLF CRLF body", "x\r\n\r\nBcc: evil@attacker.example", true},
	{"NUL Bcc", "x\x00\r\nBcc: evil@attacker.example", true},
	{"LINE SEPARATOR Bcc", "x\u2028Bcc: evil@attacker.example", true},
	{"NEL Bcc", "x\u0085Bcc: evil@attacker.example", true},
	{"VT FF Bcc", "x\v\fBcc: evil@attacker.example", true},
	{"encoded-word CRLF Bcc", "=?UTF-8?Q?x=0D=0ABcc:_evil@attacker.example?=", false},
	{"To and Bcc on one line", "x To: evil@attacker.example, Bcc: evil@attacker.example", false},
}

// field puts v into one field of an AfterShip msg for tracking number n.
type field struct {
	name string
	// strict: the edge refuses every attack here (a slug is letters,
	// digits and dashes).
	strict bool
	// key: the edge refuses an attack with a break (edge), as the API does
	// for tracking numbers; a key is never cleaned.
	key bool
	// shown reads the field back from the stored tracking: display fields
	// are stored cleaned, on one line.
	shown func(tracking.Tracking) string
	msg   func(n, v string) map[string]any
}

var fields = []field{
	{name: "customer_name", shown: func(t tracking.Tracking) string { return t.CustomerName },
		msg: func(n, v string) map[string]any { return asTracking(n, "usps", map[string]any{"customer_name": v}) }},
	{name: "title", shown: func(t tracking.Tracking) string { return t.Title },
		msg: func(n, v string) map[string]any { return asTracking(n, "usps", map[string]any{"title": v}) }},
	{name: "order_number", shown: func(t tracking.Tracking) string { return t.OrderNumber },
		msg: func(n, v string) map[string]any { return asTracking(n, "usps", map[string]any{"order_number": v}) }},
	{name: "checkpoints[0].message", shown: func(t tracking.Tracking) string { return t.Checkpoints[0].Message }, msg: func(n, v string) map[string]any {
		return asTracking(n, "usps", map[string]any{"checkpoints": []map[string]any{{"checkpoint_time": "2026-11-20T08:00:00Z", "tag": "InTransit", "message": v}}})
	}},
	{name: "slug", strict: true, msg: func(n, v string) map[string]any { return asTracking(n, v, nil) }},
	{name: "tracking_number", key: true, msg: func(n, v string) map[string]any { return asTracking(n+v, "usps", nil) }},
}

func asTracking(number, slug string, extra map[string]any) map[string]any {
	m := map[string]any{"tracking_number": number, "slug": slug, "tag": "InTransit", "emails": []string{victim}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// mailRig is the dispatcher wired as cmd/trackhook wires it, sending to an
// in-process SMTP server.
type mailRig struct {
	smtp *smtptest.Server
	h    *dispatcher.Handler
	insp *asynq.Inspector
}

func newMailRig(t *testing.T, e *badEnv) *mailRig {
	t.Helper()
	srv := smtptest.NewServer(t)
	cfg, err := mailer.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig = srv.ClientTLSConfig()
	sender, err := mailer.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sender.Close() })
	tmpl, err := templates.New(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := dispatcher.NewHandler(dispatcher.Config{
		Templates: tmpl, Email: sender, SMS: noSMS{}, Ledger: e.notify, Gate: e.notify.Gate(e.store), DeliveryLog: e.notify,
		UnsubscribeURL: e.optout.UnsubscribeURL, From: "Nordlicht Shop <noreply@shop.example>", MessageIDDomain: "shop.example",
		ShopName: "Nordlicht Shop", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &mailRig{smtp: srv, h: h, insp: asynq.NewInspectorFromRedisClient(e.rdb)}
}

type noSMS struct{}

func (noSMS) Send(context.Context, dispatcher.SMS) (string, error) {
	return "", fmt.Errorf("no SMS in this test: %w", dispatcher.ErrPermanent)
}

// deliver runs every pending email task through the dispatcher, as the
// worker would, and removes it from the queue. It returns how many ran.
func (m *mailRig) deliver(t *testing.T) int {
	t.Helper()
	tasks, err := m.insp.ListPendingTasks(dispatcher.QueueEmail)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if err := m.h.ProcessEmail(context.Background(), asynq.NewTask(tk.Type, tk.Payload)); err != nil {
			t.Fatalf("ProcessEmail: %v", err)
		}
		if err := m.insp.DeleteTask(dispatcher.QueueEmail, tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	return len(tasks)
}

// headerBlock is the raw header section of a received message.
func headerBlock(raw []byte) string {
	h, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	return string(h)
}

// checkOneRecipient asserts what the attacks are after: the message went to
// the victim alone, with no header the benign message lacks and a Subject
// on one line.
func checkOneRecipient(t *testing.T, got smtptest.Message, headers []string) {
	t.Helper()
	if len(got.To) != 1 || got.To[0] != victim {
		t.Errorf("envelope recipients %q, want only %s", got.To, victim)
	}
	if got.Header == nil {
		t.Fatalf("not a message:\n%s", got.Raw)
	}
	if to := got.Header["To"]; len(to) != 1 {
		t.Errorf("%d To headers: %q", len(to), to)
	} else if l, err := mail.ParseAddressList(to[0]); err != nil || len(l) != 1 || l[0].Address != victim {
		t.Errorf("To %q: %v", to[0], err)
	}
	for _, h := range []string{"Bcc", "Cc", "Reply-To", "X-Evil"} {
		if v, ok := got.Header[h]; ok {
			t.Errorf("injected %s: %q", h, v)
		}
	}
	if names := slices.Sorted(maps.Keys(got.Header)); !slices.Equal(names, headers) {
		t.Errorf("headers %q, want those of a benign email %q", names, headers)
	}
	if s := got.Header["Subject"]; len(s) != 1 || strings.ContainsAny(got.Subject, "\r\n\x00") {
		t.Errorf("Subject headers %q, decoded %q: not one line", s, got.Subject)
	}
	for _, line := range strings.Split(headerBlock(got.Raw), "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Errorf("a Bcc line in the header block: %q", line)
		}
	}
}

func TestHeaderInjectionFromWebhookToInbox(t *testing.T) {
	e := newBadEnv(t)
	rig := newMailRig(t, e)

	// The benign email fixes the set of headers every email must have.
	post := func(msg map[string]any, id string) (int, string) {
		b, _ := json.Marshal(map[string]any{"event": "tracking_update", "event_id": id, "ts": time.Now().Unix(), "msg": msg})
		return e.webhook(t, b)
	}
	if code, out := post(asTracking("BENIGN1", "usps", map[string]any{"customer_name": "Ana"}), "benign"); code != 200 {
		t.Fatalf("benign webhook: %d %s", code, out)
	}
	if n := rig.deliver(t); n != 1 {
		t.Fatalf("benign webhook: %d email tasks", n)
	}
	benign := rig.smtp.WaitForMessages(t, 1, 5*time.Second)[0]
	headers := slices.Sorted(maps.Keys(benign.Header))
	if !slices.Contains(headers, "To") || !slices.Contains(headers, "Subject") || slices.Contains(headers, "Bcc") {
		t.Fatalf("benign headers %q", headers)
	}

	sent := 1
	for fi, f := range fields {
		for ai, a := range attacks {
			t.Run(f.name+"/"+a.name, func(t *testing.T) {
				number := fmt.Sprintf("INJ%02d%02d", fi, ai)
				before := e.snapshot(t)
				code, out := post(f.msg(number, a.v), "evt-"+number)
				if refused := f.strict || (f.key && a.edge); refused {
					if code != 400 || !strings.Contains(out, f.name) {
						t.Fatalf("answered %d %s, want 400 naming %s", code, out, f.name)
					}
					e.unchanged(t, before)
					if n := rig.deliver(t); n != 0 {
						t.Fatalf("a refused webhook queued %d emails", n)
					}
					return
				}
				if code != 200 {
					t.Fatalf("answered %d %s, want 200", code, out)
				}
				if f.shown != nil {
					// Stored cleaned: one line, the text kept.
					tr, err := e.store.Get(context.Background(), tracking.ID("usps", number))
					if err != nil {
						t.Fatal(err)
					}
					v := f.shown(tr)
					if strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) ||
						!strings.Contains(v, "evil@attacker.example") {
						t.Fatalf("stored %s %q: not one clean line", f.name, v)
					}
				}
				if n := rig.deliver(t); n != 1 {
					t.Fatalf("%d email tasks, want 1", n)
				}
				sent++
				got := rig.smtp.WaitForMessages(t, sent, 5*time.Second)[sent-1]
				checkOneRecipient(t, got, headers)
				// Not vacuous: the hostile text reached the email, defused.
				if !strings.Contains(got.Text, "evil@attacker.example") {
					t.Errorf("the value never reached the email:\n%s", got.Text)
				}
			})
		}
	}
	if got := len(rig.smtp.Messages()); got != sent {
		t.Fatalf("%d messages arrived, want %d", got, sent)
	}
}

// TestHeaderInjectionBelowTheEdge skips the webhook's checks: a notify task
// whose shipment carries CRLF in every field (as one stored before the edge
// refused them, or from a sender adapter that missed one) still yields one
// email to one recipient with a one-line Subject.
func TestHeaderInjectionBelowTheEdge(t *testing.T) {
	e := newBadEnv(t)
	rig := newMailRig(t, e)
	ctx := context.Background()
	tr, err := e.store.Create(ctx, tracking.Tracking{Slug: "usps", TrackingNumber: "BELOW1", Emails: []string{victim}})
	if err != nil {
		t.Fatal(err)
	}
	benign := dispatcher.Notification{TrackingID: tr.ID, Key: "InTransit|email|" + victim, Status: "InTransit", Channel: "email",
		Recipient: victim, Language: "en", Shipment: dispatcher.Shipment{TrackingNumber: "BELOW1", CarrierSlug: "usps", CarrierName: "USPS",
			CustomerName: "Ana", Title: "Order 1001", OrderNumber: "1001", CheckpointMessage: "Accepted", CheckpointTime: time.Now()}}
	run := func(n dispatcher.Notification) smtptest.Message {
		t.Helper()
		before := len(rig.smtp.Messages())
		task, err := dispatcher.NewTask(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := rig.h.ProcessEmail(ctx, task); err != nil {
			t.Fatalf("ProcessEmail: %v", err)
		}
		return rig.smtp.WaitForMessages(t, before+1, 5*time.Second)[before]
	}
	headers := slices.Sorted(maps.Keys(run(benign).Header))
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			n := benign
			n.Status = []string{"InfoReceived", "InTransit", "OutForDelivery", "AvailableForPickup", "AttemptFail", "Delivered", "Exception", "Expired",
				"InfoReceived", "InTransit"}[i%10]
			n.Key = fmt.Sprintf("%s|email|%s|%d", n.Status, victim, i) // a new ledger entry each time
			s := &n.Shipment
			s.TrackingNumber, s.CarrierSlug, s.CarrierName = "1Z"+a.v, "usps"+a.v, "USPS"+a.v
			s.CustomerName, s.Title, s.OrderNumber = "Ana"+a.v, "Order"+a.v, "1001"+a.v
			s.CheckpointMessage, s.CheckpointLocation, s.SubtagMessage = "Accepted"+a.v, "Leipzig"+a.v, "Sorted"+a.v
			got := run(n)
			checkOneRecipient(t, got, headers)
			if !strings.Contains(got.Subject, "1Z") || !strings.Contains(got.Text, "evil@attacker.example") {
				t.Errorf("the values never reached the email: subject %q\n%s", got.Subject, got.Text)
			}
		})
	}
}
