package optout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/trackhook/trackhook/dispatcher/redact"
	"github.com/trackhook/trackhook/receiver/tracking"
)

// maxFormBytes caps an unsubscribe POST body. A browser sends "scope=…", a
// mail client "List-Unsubscribe=One-Click".
const maxFormBytes = 16 << 10

// Scopes of an unsubscribe POST.
const (
	scopeTracking = "tracking" // this shipment only
	scopeAll      = "all"      // every shipment; also when absent (one-click)
)

// suppressReason is recorded with a suppression made by the link.
const suppressReason = "unsubscribe link"

// view is one rendered page.
type view struct {
	Lang    string
	Title   string
	Lead    template.HTML // built by lead(): the address escaped and in <strong>
	Body    string
	Buttons []button
	Style   template.CSS
}

type button struct {
	Action string // relative: the token, so it resolves to this same URL
	Scope  string
	Label  string
}

// confirmPage is GET (and HEAD) /unsubscribe/{token}. It only asks: mail
// scanners and link previewers fetch every link, so GET never unsubscribes.
func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	lang := pageLanguage(h.matcher, r)
	t := locales[lang].texts
	token := mux.Vars(r)["token"]
	claim, ok := h.parse(w, r, lang, token)
	if !ok {
		return
	}
	v := view{Title: t.Title, Lead: lead(t.Confirm, claim.Recipient), Body: t.Choose}
	if claim.TrackingID != "" {
		v.Buttons = append(v.Buttons, button{Action: token, Scope: scopeTracking, Label: t.OnlyThis})
	} else {
		v.Body = ""
	}
	v.Buttons = append(v.Buttons, button{Action: token, Scope: scopeAll, Label: t.AllShipment})
	h.render(w, http.StatusOK, lang, v)
}

// parse checks token. When it is not a token of ours it answers 404; when
// the signing key cannot be loaded (Redis is down) it answers 503, so the
// person tries again rather than thinking the link is broken.
func (h *Handler) parse(w http.ResponseWriter, r *http.Request, lang int, token string) (Claim, bool) {
	t := locales[lang].texts
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	tokens, err := h.tokens.get(ctx)
	if err != nil {
		h.log.WarnContext(r.Context(), "unsubscribe: answering 503", "err", err)
		w.Header().Set("Retry-After", "60")
		h.render(w, http.StatusServiceUnavailable, lang, view{Title: t.ErrTitle, Body: t.ErrBody})
		return Claim{}, false
	}
	claim, err := tokens.Parse(token)
	if err != nil {
		h.render(w, http.StatusNotFound, lang, view{Title: t.BadTitle, Body: t.BadBody})
		return Claim{}, false
	}
	return claim, true
}

// unsubscribe is POST /unsubscribe/{token}: no cookie, no login, the token is
// the authority. scope=tracking opts the recipient out of this shipment;
// scope=all, or no scope at all (an RFC 8058 one-click POST of
// "List-Unsubscribe=One-Click"), suppresses the recipient on this channel
// for every shipment. Repeating it changes nothing and answers 200 again.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	lang := pageLanguage(h.matcher, r)
	t := locales[lang].texts
	bad := view{Title: t.BadTitle, Body: t.BadBody}
	token := mux.Vars(r)["token"]
	claim, ok := h.parse(w, r, lang, token)
	if !ok {
		return
	}
	if code, err := parseForm(w, r); err != nil {
		h.log.InfoContext(r.Context(), "unsubscribe: unreadable form", "error", err)
		h.render(w, code, lang, bad)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	masked := redact.Recipient(claim.Recipient)
	scope := r.Form.Get("scope")
	var done view
	var err error
	switch scope {
	case scopeTracking:
		if claim.TrackingID == "" {
			h.render(w, http.StatusBadRequest, lang, bad)
			return
		}
		err = h.trackings.OptOut(ctx, claim.TrackingID, claim.Channel, claim.Recipient)
		if errors.Is(err, tracking.ErrNotFound) {
			// The shipment is gone, so nothing more is sent about it.
			err = nil
		}
		done = view{Title: t.DoneTitle, Lead: lead(t.DoneThis, claim.Recipient), Body: t.AlsoAll,
			Buttons: []button{{Action: token, Scope: scopeAll, Label: t.AllShipment}}}
	case scopeAll, "":
		err = h.suppressions.Suppress(ctx, claim.Channel, claim.Recipient, suppressReason)
		done = view{Title: t.DoneTitle, Lead: lead(t.DoneAll, claim.Recipient)}
	default:
		h.render(w, http.StatusBadRequest, lang, bad)
		return
	}
	if err != nil {
		h.log.ErrorContext(ctx, "unsubscribe failed", "channel", claim.Channel, "recipient", masked,
			"tracking_id", claim.TrackingID, "error", err)
		w.Header().Set("Retry-After", "60")
		h.render(w, http.StatusServiceUnavailable, lang, view{Title: t.ErrTitle, Body: t.ErrBody})
		return
	}
	if scope == "" {
		scope = scopeAll + " (one-click)"
	}
	h.log.InfoContext(ctx, "unsubscribed", "scope", scope, "channel", claim.Channel, "recipient", masked,
		"tracking_id", claim.TrackingID)
	h.render(w, http.StatusOK, lang, done)
}

// parseForm reads the (capped) body and the query into r.Form. It returns
// the status to answer when that fails.
func parseForm(w http.ResponseWriter, r *http.Request) (int, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// RFC 8058 allows one-click POSTs as multipart/form-data too.
		err = r.ParseMultipartForm(maxFormBytes)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, err
	case err != nil:
		return http.StatusBadRequest, err
	}
	return http.StatusOK, nil
}

// lead formats a sentence around the recipient, masked, escaped and bold.
// The recipient's own link may show the address, but the mail may have been
// forwarded, so it is masked like in the logs ("k***@example.com").
func lead(format, recipient string) template.HTML {
	addr := "<strong>" + template.HTMLEscapeString(redact.Recipient(recipient)) + "</strong>"
	return template.HTML(fmt.Sprintf(template.HTMLEscapeString(format), addr))
}

// render writes a page. Every page is private to its link: not cached, not
// indexed, and it never leaks the link in a Referer.
func (h *Handler) render(w http.ResponseWriter, code, lang int, v view) {
	v.Lang = locales[lang].tag.String()
	v.Style = h.style
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Vary", "Accept-Language")
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
	var b bytes.Buffer
	if err := h.page.Execute(&b, v); err != nil {
		h.log.Error("render unsubscribe page", "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}
