package api

import (
	"net/http"
	"slices"

	"github.com/trackhook/trackhook/receiver/contact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

type notificationBody struct {
	Notification *struct {
		Emails contact.List `json:"emails"`
		Smses  contact.List `json:"smses"`
	} `json:"notification"`
}

func notificationOf(t tracking.Tracking) map[string]any {
	return map[string]any{"notification": notificationJSON{Emails: nonNil(t.Emails), Smses: nonNil(t.SMSes)}}
}

// GetNotification is GET /notifications/{id} and /notifications/{slug}/{tracking_number}.
func (a *API) GetNotification(w http.ResponseWriter, r *http.Request) {
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeData(w, http.StatusOK, notificationOf(t))
}

// AddNotification is POST …/add: a set union, answered with the full lists.
func (a *API) AddNotification(w http.ResponseWriter, r *http.Request) {
	a.changeNotification(w, r, true)
}

// RemoveNotification is POST …/remove: removing an absent value is fine.
func (a *API) RemoveNotification(w http.ResponseWriter, r *http.Request) {
	a.changeNotification(w, r, false)
}

func (a *API) changeNotification(w http.ResponseWriter, r *http.Request, add bool) {
	id, err := a.lookup(r)
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	emails, phones, err := parseNotification(body)
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := a.store.Update(r.Context(), id, func(t *tracking.Tracking) error {
		smses, err := normalizePhones("smses", phones, t.DestinationCountry)
		if err != nil {
			return err
		}
		if !add {
			t.Emails = slices.DeleteFunc(t.Emails, func(v string) bool { return slices.Contains(emails, v) })
			t.SMSes = slices.DeleteFunc(t.SMSes, func(v string) bool { return slices.Contains(smses, v) })
			return nil
		}
		nextE, nextS := union(t.Emails, emails), union(t.SMSes, smses)
		if err := a.checkMax("emails", nextE); err != nil {
			return err
		}
		if err := a.checkMax("smses", nextS); err != nil {
			return err
		}
		t.Emails, t.SMSes = nextE, nextS
		t.OptedOut = readmitted(t.OptedOut, emails, smses)
		return nil
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeData(w, http.StatusOK, notificationOf(t))
}

// parseNotification decodes a notification body: the emails, validated, and
// the phone numbers as given (a national number is read with the
// tracking's country, inside the update). Every error is an *Error.
func parseNotification(body []byte) (emails []string, phones contact.List, err error) {
	var b notificationBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, nil, err
	}
	if b.Notification == nil {
		return nil, nil, errNotificationRequired()
	}
	emails, err = normalizeEmails("emails", b.Notification.Emails)
	if err != nil {
		return nil, nil, err
	}
	return emails, b.Notification.Smses, nil
}

func union(have, add []string) []string {
	out := slices.Clone(have)
	for _, v := range add {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
