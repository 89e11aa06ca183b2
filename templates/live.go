package templates

import "sync/atomic"

// Live is a Set that an operator can replace while messages are being
// rendered: Render and Locale use the Set that is current when they are
// called, and Reload swaps in a new one only when it loads and checks
// cleanly, so a broken edit never reaches a customer and no render sees
// half of a change.
type Live struct {
	opts Options
	cur  atomic.Pointer[Set]
}

// NewLive loads the Set for opts, as New does.
func NewLive(opts Options) (*Live, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	l := &Live{opts: opts}
	l.cur.Store(s)
	return l, nil
}

// Reload reads the embedded files and opts.OverrideDir again. On an error
// the current Set stays and the error says why.
func (l *Live) Reload() error {
	s, err := New(l.opts)
	if err != nil {
		return err
	}
	l.cur.Store(s)
	return nil
}

// Set returns the current Set.
func (l *Live) Set() *Set { return l.cur.Load() }

// Render renders with the current Set; see Set.Render.
func (l *Live) Render(kind Kind, status, locale string, d Data) (Message, error) {
	return l.cur.Load().Render(kind, status, locale, d)
}

// Locale negotiates with the current Set; see Set.Locale.
func (l *Live) Locale(lang, country string) string { return l.cur.Load().Locale(lang, country) }
