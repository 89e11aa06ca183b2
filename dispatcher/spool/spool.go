// Package spool writes messages as files into a folder: the embedded
// default when no SMTP server or SMS provider is configured. Files are
// written atomically (a temporary file, then a rename), so a reader never
// sees half a message, and named
//
//	<UTC time YYYYMMDDTHHMMSS.nnnnnnnnnZ>-<kind>-<label>.<ext>
//
// so that `ls` sorts them by time. Within one Folder every file gets a
// distinct timestamp, so names never collide.
package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// timeLayout is UTC with nanoseconds at a fixed width, so names sort by time.
const timeLayout = "20060102T150405.000000000Z"

// Folder is one outbox folder.
type Folder struct {
	path string
	now  func() time.Time

	mu   sync.Mutex
	last time.Time
}

// New creates the folder if needed.
func New(path string) (*Folder, error) {
	if path == "" {
		return nil, errors.New("outbox: empty folder path")
	}
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Folder{path: path, now: time.Now}, nil
}

// Path is the folder the files are written to.
func (f *Folder) Path() string { return f.path }

// Write stores one message and returns its file name and time. label must
// already be safe in a file name. Errors never contain the final name (it
// may hold an address).
func (f *Folder) Write(kind, label, ext string, write func(w io.Writer, t time.Time) error) (string, time.Time, error) {
	t := f.uniqueTime()
	name := t.UTC().Format(timeLayout) + "-" + kind + "-" + label + "." + ext
	if err := writeAtomic(f.path, name, func(w io.Writer) error { return write(w, t) }); err != nil {
		return "", t, err
	}
	return name, t, nil
}

// uniqueTime returns now, or 1ns after the previous value when the clock has
// not moved.
func (f *Folder) uniqueTime() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now().Round(0) // drop the monotonic reading; compare wall clock
	if !now.After(f.last) {
		now = f.last.Add(time.Nanosecond)
	}
	f.last = now
	return now
}

func writeAtomic(dir, name string, write func(io.Writer) error) (err error) {
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
