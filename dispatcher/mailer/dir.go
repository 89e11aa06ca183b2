package mailer

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

// Dir writes every email as a complete RFC 5322 .eml file (the same message
// SMTP would send) into a folder: the embedded default when no SMTP server
// is configured. Files are written atomically (temporary file, then
// rename) and named
//
//	20260521T143005.123456789Z-email-kim@example.com.eml
//
// (UTC time, so `ls` sorts by time; the recipient, or a short hash of it
// when the address has characters unfit for a file name). Each file gets a
// distinct timestamp, so names never collide within one process. It
// implements dispatcher.EmailSender.
type Dir struct{ f *spool.Folder }

// NewDir creates the folder if needed.
func NewDir(path string) (*Dir, error) {
	f, err := spool.New(path)
	if err != nil {
		return nil, fmt.Errorf("mail %w", err)
	}
	return &Dir{f: f}, nil
}

// Path is the folder the files are written to.
func (d *Dir) Path() string { return d.f.Path() }

// Send writes e to a new file. Invalid emails fail like they would over SMTP
// (wrapping dispatcher.ErrPermanent); file system errors are temporary.
func (d *Dir) Send(ctx context.Context, e dispatcher.Email) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail outbox: %w", err)
	}
	// Build first, so an invalid email fails before any file exists.
	msg, err := buildMessage(e, time.Now())
	if err != nil {
		return err
	}
	_, _, err = d.f.Write("email", fileLabel(e.To), "eml", func(w io.Writer, t time.Time) error {
		msg.SetDateWithValue(t)
		_, err := msg.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail outbox: writing email to %s: %w", redact.Email(e.To), err)
	}
	return nil
}

var _ dispatcher.EmailSender = (*Dir)(nil)

// fileLabel is the recipient address when it is made only of characters that
// are safe in file names everywhere, else a short hash of it.
func fileLabel(addr string) string {
	a := strings.ToLower(strings.TrimSpace(addr))
	ok := a != "" && len(a) <= 80 && a[0] != '.' && a[0] != '-'
	for i := 0; ok && i < len(a); i++ {
		c := a[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("@._+-", c) >= 0
	}
	if ok {
		return a
	}
	sum := sha256.Sum256([]byte(addr))
	return "h" + hex.EncodeToString(sum[:6])
}
