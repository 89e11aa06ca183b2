package sms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
	"github.com/trackhook/trackhook/dispatcher/spool"
)

// Dir writes every SMS as a small text file into a folder: the embedded
// default when no SMS provider is configured, the operator's local stand-in
// for one. A file is named
//
//	20260521T143005.123456789Z-sms-3f2a9c1b07de.txt
//
// (UTC time, so `ls` sorts by time; a short hash of the number) and holds
//
//	To: +4915112345678
//	Date: Thu, 21 May 2026 14:30:05 +0000
//
//	<body>
//
// with the full number: the outbox is the operator's own. Files are written
// atomically (temporary file, then rename). Send returns the file name as
// the provider id. It implements dispatcher.SMSSender.
type Dir struct{ f *spool.Folder }

// NewDir creates the folder if needed.
func NewDir(path string) (*Dir, error) {
	f, err := spool.New(path)
	if err != nil {
		return nil, fmt.Errorf("sms %w", err)
	}
	return &Dir{f: f}, nil
}

// Path is the folder the files are written to.
func (d *Dir) Path() string { return d.f.Path() }

// Send writes m to a new file and returns its name.
func (d *Dir) Send(ctx context.Context, m dispatcher.SMS) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sms outbox: %w", err)
	}
	if strings.TrimSpace(m.To) == "" || strings.ContainsFunc(m.To, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", fmt.Errorf("sms outbox: invalid recipient number %s: %w", redact.Phone(m.To), dispatcher.ErrPermanent)
	}
	sum := sha256.Sum256([]byte(m.To))
	name, _, err := d.f.Write("sms", hex.EncodeToString(sum[:6]), "txt", func(w io.Writer, t time.Time) error {
		_, err := io.WriteString(w, "To: "+m.To+"\nDate: "+t.UTC().Format(time.RFC1123Z)+"\n\n"+m.Body+"\n")
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sms outbox: writing SMS to %s: %w", redact.Phone(m.To), err)
	}
	return name, nil
}

var _ dispatcher.SMSSender = (*Dir)(nil)
