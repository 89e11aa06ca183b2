package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
)

// note is one notification: what the servers count by.
type note struct {
	number, status string
	channel        dispatcher.Channel
	recipient      string
}

func (n note) String() string {
	return n.number + "/" + n.status + "/" + string(n.channel) + "/" + n.recipient
}

// smsPhrases tell the status of an English SMS (templates/locales/en.json,
// "sms.<Status>").
var smsPhrases = []struct{ phrase, status string }{
	{"There is a delivery problem with your parcel", exception},
	{"No recent tracking updates", expired},
	{" is on its way.", inTransit},
	{" is out for delivery today.", outForDelivery},
	{" is ready for pickup.", availableForPickup},
	{" could not be delivered.", attemptFail},
	{" has been delivered.", delivered},
	{" is being prepared for shipping.", infoReceived},
}

var numberRE = regexp.MustCompile(`\bTH\d+X\d{5}\b`)

// tally compares what arrived with what was due.
type tally struct {
	due         int // notifications due from webhooks answered 2xx
	dueRejected int // of which to the permanently rejected address or number
	delivered   int // due notifications that arrived (each counted once)
	lost        []note
	dups        []note               // a notification that arrived n times is here n-1 times
	copies      map[note][]time.Time // when each copy of a duplicated notification arrived
	unexpected  []string             // arrived but not due, or not recognisable
	uncertain   int                  // trackings with a webhook never answered 2xx
	last        time.Time            // when the last message arrived
}

// count reads every message both servers accepted and compares it with the
// notifications expect says are due. rejected holds the recipients the
// servers refuse permanently: nothing may arrive for them.
func count(e *env, p *plan, rejected map[string]bool) tally {
	t := tally{copies: map[note][]time.Time{}}
	due := map[note]bool{}
	uncertain := map[string]bool{}
	byTaskID := map[string]note{}
	for _, tr := range p.trackings {
		for _, s := range allStatuses {
			byTaskID[dispatcher.TaskID(tr.id, s, dispatcher.ChannelEmail, tr.email)] = note{tr.number, s, dispatcher.ChannelEmail, tr.email}
		}
		statuses, certain := expect(tr)
		if !certain {
			t.uncertain++
			uncertain[tr.number] = true
			continue
		}
		for _, s := range statuses {
			for _, n := range []note{{tr.number, s, dispatcher.ChannelEmail, tr.email}, {tr.number, s, dispatcher.ChannelSMS, tr.phone}} {
				due[n] = true
				t.due++
				if rejected[n.recipient] {
					t.dueRejected++
				}
			}
		}
	}

	arrived := map[note][]time.Time{}
	for _, m := range e.smtp.Messages() {
		// The Message-ID is the task id, derived from tracking, status,
		// channel and recipient.
		mid := strings.Trim(m.Header.Get("Message-Id"), "<> ")
		id, _, _ := strings.Cut(mid, "@")
		n, ok := byTaskID[id]
		if !ok || len(m.To) != 1 || !strings.EqualFold(m.To[0], n.recipient) {
			t.unexpected = append(t.unexpected, fmt.Sprintf("email to %v, Message-ID %q, subject %q", m.To, mid, m.Subject))
			continue
		}
		arrived[n] = append(arrived[n], m.Received)
	}
	for _, m := range e.sms.Messages() {
		number := numberRE.FindString(m.Body)
		tr := p.byNumber[number]
		status := ""
		for _, ph := range smsPhrases {
			if strings.Contains(m.Body, ph.phrase) {
				status = ph.status
				break
			}
		}
		if tr == nil || status == "" || m.To != tr.phone {
			t.unexpected = append(t.unexpected, fmt.Sprintf("SMS to %s: %q", m.To, m.Body))
			continue
		}
		arrived[note{tr.number, status, dispatcher.ChannelSMS, m.To}] = append(arrived[note{tr.number, status, dispatcher.ChannelSMS, m.To}], m.Received)
	}

	for _, times := range arrived {
		for _, at := range times {
			if at.After(t.last) {
				t.last = at
			}
		}
	}
	for n, times := range arrived {
		if uncertain[n.number] {
			continue
		}
		if !due[n] || rejected[n.recipient] {
			t.unexpected = append(t.unexpected, fmt.Sprintf("%s arrived %d times, was not due", n, len(times)))
			continue
		}
		t.delivered++
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		for range times[1:] {
			t.dups = append(t.dups, n)
		}
		if len(times) > 1 {
			t.copies[n] = times
		}
	}
	for n := range due {
		if !rejected[n.recipient] && len(arrived[n]) == 0 {
			t.lost = append(t.lost, n)
		}
	}
	sort.Slice(t.lost, func(i, j int) bool { return t.lost[i].String() < t.lost[j].String() })
	sort.Strings(t.unexpected)
	return t
}

// archived lists the archived (dead-lettered) notify tasks.
func archived(e *env, p *plan) ([]note, error) {
	var out []note
	for _, q := range []string{dispatcher.QueueEmail, dispatcher.QueueSMS} {
		for page := 1; ; page++ {
			tasks, err := e.insp.ListArchivedTasks(q, asynq.PageSize(500), asynq.Page(page))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				break
			}
			if err != nil {
				return nil, err
			}
			for _, ti := range tasks {
				var n dispatcher.Notification
				if err := json.Unmarshal(ti.Payload, &n); err != nil {
					return nil, fmt.Errorf("archived task %s: %v", ti.ID, err)
				}
				number := "tracking " + n.TrackingID
				if tr := p.byID[n.TrackingID]; tr != nil {
					number = tr.number
				}
				out = append(out, note{number, n.Status, n.Channel, n.Recipient})
			}
			if len(tasks) < 500 {
				break
			}
		}
	}
	return out, nil
}

// result is one row of the table.
type result struct {
	name       string
	webhooks   int // distinct webhooks (event ids sent, redeliveries included)
	requests   int // HTTP requests, retries included
	ok         int // answered 2xx
	r503       int // answered 503
	other      int // anything else: no answer (connection refused or cut), other codes
	due        int
	delivered  int
	rejected   int // due to the permanently rejected address/number: must not arrive
	archived   int // archived tasks found for them
	lost       int
	dups       int
	unexpected int
	kills      int
	uncertain  int // trackings left out: a webhook never answered 2xx
	wall       time.Duration
	notes      []string
	ran        bool
	failed     bool
}

func formatTable(form string, rs []*result, wall time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trackhook fault-injection suite, %s form, %s, wall %v\n\n", form, time.Now().Format(time.RFC3339), wall.Round(time.Second))
	fmt.Fprintf(&b, "%-9s %8s %8s %7s %6s %6s %6s %9s %8s %5s %4s %5s %5s %6s  %s\n",
		"scenario", "webhooks", "requests", "2xx", "503", "other", "due", "delivered", "rejected", "lost", "dup", "unexp", "kills", "wall", "result")
	for _, r := range rs {
		if r == nil || !r.ran {
			continue
		}
		res := "ok"
		if r.failed {
			res = "FAIL"
		}
		rej := "-"
		if r.rejected > 0 {
			rej = fmt.Sprintf("%d/%d", r.archived, r.rejected)
		}
		fmt.Fprintf(&b, "%-9s %8d %8d %7d %6d %6d %6d %9d %8s %5d %4d %5d %5d %6s  %s\n",
			r.name, r.webhooks, r.requests, r.ok, r.r503, r.other, r.due, r.delivered, rej, r.lost, r.dups, r.unexpected, r.kills,
			r.wall.Round(time.Second).String(), res)
	}
	b.WriteString("\n")
	b.WriteString("webhooks: distinct webhooks sent (redeliveries included); requests: HTTP requests, retries included;\n")
	b.WriteString("2xx/503/other: answers to those requests (other: no answer, e.g. refused while trackhook restarts);\n")
	b.WriteString("due: notifications due from the webhooks answered 2xx; delivered: of those, arrived at least once;\n")
	b.WriteString("rejected: archived/due for the permanently rejected address or number (must arrive 0 times);\n")
	b.WriteString("lost: due, never arrived; dup: extra copies; unexp: arrived, not due; kills: SIGKILLs of trackhook.\n")
	for _, r := range rs {
		if r == nil || !r.ran || len(r.notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", r.name)
		for _, n := range r.notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	return b.String()
}
