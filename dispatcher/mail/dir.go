package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/redact"
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
type Dir struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	last time.Time
}

// NewDir creates the folder if needed.
func NewDir(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("mail outbox: empty folder path")
	}
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("mail outbox: %w", err)
	}
	return &Dir{path: path, now: time.Now}, nil
}

// Path is the folder the files are written to.
func (d *Dir) Path() string { return d.path }

// Send writes e to a new file. Invalid emails fail like they would over SMTP
// (wrapping dispatcher.ErrPermanent); file system errors are temporary.
func (d *Dir) Send(ctx context.Context, e dispatcher.Email) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail outbox: %w", err)
	}
	t := uniqueTime(&d.mu, &d.last, d.now())
	msg, err := buildMessage(e, t)
	if err != nil {
		return err
	}
	name := t.UTC().Format(fileTimeLayout) + "-email-" + fileLabel(e.To) + ".eml"
	err = writeFileAtomic(d.path, name, func(w io.Writer) error {
		_, err := msg.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail outbox: writing email to %s: %w", redact.Email(e.To), err)
	}
	return nil
}

var _ dispatcher.EmailSender = (*Dir)(nil)

// fileTimeLayout is UTC with nanoseconds and a fixed width, so names sort by
// time.
const fileTimeLayout = "20060102T150405.000000000Z"

// uniqueTime returns now, or 1ns after the previous value when the clock has
// not moved, so two messages never share a file name.
func uniqueTime(mu *sync.Mutex, last *time.Time, now time.Time) time.Time {
	mu.Lock()
	defer mu.Unlock()
	now = now.Round(0) // drop the monotonic reading; compare wall clock
	if !now.After(*last) {
		now = last.Add(time.Nanosecond)
	}
	*last = now
	return now
}

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

// writeFileAtomic writes name in dir through a temporary file and a rename,
// so readers never see a partial file. Errors never contain the final name
// (it may hold an address).
func writeFileAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			return fmt.Errorf("rename: %w", le.Err)
		}
		return err
	}
	return nil
}
