package sms_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/sms"
)

func TestDirWritesTheSMS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	d, err := sms.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Send(context.Background(), dispatcher.SMS{To: customer, Body: "Ihre Sendung ist da.\nAbmelden: STOP"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-sms-[0-9a-f]{12}\.txt$`).MatchString(id) {
		t.Errorf("provider id %q is not the file name pattern", id)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != id {
		t.Fatalf("outbox = %v, want exactly %s (no temp files)", entries, id)
	}
	b, err := os.ReadFile(filepath.Join(dir, id))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := strings.Cut(string(b), "\n\n")
	if !ok || body != "Ihre Sendung ist da.\nAbmelden: STOP\n" {
		t.Errorf("body = %q", body)
	}
	lines := strings.Split(head, "\n")
	if len(lines) != 2 || lines[0] != "To: "+customer || !strings.HasPrefix(lines[1], "Date: ") {
		t.Fatalf("head = %q", head)
	}
	if d, err := time.Parse(time.RFC1123Z, strings.TrimPrefix(lines[1], "Date: ")); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %v (%v), want about now", d, err)
	}
}

func TestDirSMSNamesAreUnique(t *testing.T) {
	dir := t.TempDir()
	d, err := sms.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if _, err := d.Send(context.Background(), dispatcher.SMS{To: customer, Body: "x"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if entries, _ := os.ReadDir(dir); len(entries) != 40 {
		t.Errorf("%d files, want 40", len(entries))
	}
}

func TestDirSMSRefusesALineBreakInTheNumber(t *testing.T) {
	d, err := sms.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Send(context.Background(), dispatcher.SMS{To: customer + "\nTo: +1555", Body: "x"})
	if !errors.Is(err, dispatcher.ErrPermanent) || strings.Contains(err.Error(), customer) {
		t.Errorf("err = %v, want permanent with the number masked", err)
	}
}
