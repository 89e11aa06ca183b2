package sms

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
type Dir struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	last time.Time
}

// NewDir creates the folder if needed.
func NewDir(path string) (*Dir, error) {
	if path == "" {
		return nil, errors.New("sms outbox: empty folder path")
	}
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("sms outbox: %w", err)
	}
	return &Dir{path: path, now: time.Now}, nil
}

// Path is the folder the files are written to.
func (d *Dir) Path() string { return d.path }

// Send writes m to a new file and returns its name.
func (d *Dir) Send(ctx context.Context, m dispatcher.SMS) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sms outbox: %w", err)
	}
	if strings.TrimSpace(m.To) == "" || strings.ContainsFunc(m.To, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", fmt.Errorf("sms outbox: invalid recipient number %s: %w", redact.Phone(m.To), dispatcher.ErrPermanent)
	}
	t := d.uniqueTime()
	sum := sha256.Sum256([]byte(m.To))
	name := t.UTC().Format("20060102T150405.000000000Z") + "-sms-" + hex.EncodeToString(sum[:6]) + ".txt"
	content := "To: " + m.To + "\nDate: " + t.UTC().Format(time.RFC1123Z) + "\n\n" + m.Body + "\n"
	err := writeFileAtomic(d.path, name, func(w io.Writer) error {
		_, err := io.WriteString(w, content)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sms outbox: writing SMS to %s: %w", redact.Phone(m.To), err)
	}
	return name, nil
}

var _ dispatcher.SMSSender = (*Dir)(nil)

// uniqueTime returns now, or 1ns after the previous value when the clock has
// not moved, so two messages never share a file name.
func (d *Dir) uniqueTime() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now().Round(0)
	if !now.After(d.last) {
		now = d.last.Add(time.Nanosecond)
	}
	d.last = now
	return now
}

// writeFileAtomic writes name in dir through a temporary file and a rename,
// so readers never see a partial file.
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
	return os.Rename(tmp, filepath.Join(dir, name))
}
