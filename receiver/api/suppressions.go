package api

import (
	"net/http"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/receiver/contact"
)

// Suppressions are trackhook's own addition to the AfterShip API: the
// recipients who opted out of every shipment (unsubscribe link, SMS STOP, or
// an admin), which no notification reaches until the suppression is lifted.

type suppressionJSON struct {
	Channel   string `json:"channel"`
	Recipient string `json:"recipient"`
	Reason    string `json:"reason"`
	CreatedAt string `json:"created_at,omitempty"`
}

type suppressionBody struct {
	Suppression *struct {
		Emails contact.List `json:"emails"`
		Smses  contact.List `json:"smses"`
	} `json:"suppression"`
}

// ListSuppressions is GET /suppressions.
func (a *API) ListSuppressions(w http.ResponseWriter, r *http.Request) {
	list, err := a.notify.Suppressions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]suppressionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, suppressionJSON{Channel: string(s.Channel), Recipient: s.Recipient, Reason: s.Reason, CreatedAt: rfc3339(s.CreatedAt)})
	}
	writeData(w, http.StatusOK, map[string]any{"suppressions": out})
}

// AddSuppressions is POST /suppressions/add: an admin opts recipients out.
func (a *API) AddSuppressions(w http.ResponseWriter, r *http.Request) {
	a.changeSuppressions(w, r, true)
}

// RemoveSuppressions is POST /suppressions/remove: an admin lifts suppressions.
func (a *API) RemoveSuppressions(w http.ResponseWriter, r *http.Request) {
	a.changeSuppressions(w, r, false)
}

func (a *API) changeSuppressions(w http.ResponseWriter, r *http.Request, add bool) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	emails, smses, err := parseSuppression(body)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, set := range []struct {
		c    dispatcher.Channel
		list []string
	}{{dispatcher.ChannelEmail, emails}, {dispatcher.ChannelSMS, smses}} {
		for _, rcpt := range set.list {
			if add {
				err = a.notify.Suppress(r.Context(), set.c, rcpt, "admin")
			} else {
				_, err = a.notify.Unsuppress(r.Context(), set.c, rcpt)
			}
			if err != nil {
				a.fail(w, r, err)
				return
			}
		}
	}
	a.ListSuppressions(w, r)
}

// parseSuppression decodes and validates a suppression body: the emails and
// the phone numbers (E.164, since a suppression belongs to no tracking and
// so to no country). Every error is an *Error.
func parseSuppression(body []byte) (emails, smses []string, err error) {
	var b suppressionBody
	if err := decodeJSON(body, &b); err != nil {
		return nil, nil, err
	}
	if b.Suppression == nil {
		return nil, nil, errFieldRequired("suppression")
	}
	if emails, err = normalizeEmails("emails", b.Suppression.Emails); err != nil {
		return nil, nil, err
	}
	if smses, err = normalizePhones("smses", b.Suppression.Smses, ""); err != nil {
		return nil, nil, err
	}
	return emails, smses, nil
}
