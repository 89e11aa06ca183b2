package mailer_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackhook/trackhook/dispatcher"
	"github.com/trackhook/trackhook/dispatcher/mailer"
)

var emlName = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-email-[a-z0-9@._+-]+\.eml$`)

func TestDirWritesAParseableEML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox", "nested") // NewDir creates it
	d, err := mailer.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := email("kim@example.com", func(e *dispatcher.Email) {
		e.Subject = "Ihre Sendung ist unterwegs – Größe"
		e.Text = "Grüße!\n"
		e.HTML = "<p>Grüße!</p>"
		e.Language = "de"
	})
	before := time.Now().UTC()
	if err := d.Send(context.Background(), want); err != nil {
		t.Fatalf("Send: %v", err)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("outbox has %d entries, want 1 (no temp files left): %v", len(entries), entries)
	}
	name := entries[0].Name()
	if !emlName.MatchString(name) || !strings.HasSuffix(name, "-email-kim@example.com.eml") {
		t.Errorf("file name %q does not match %v", name, emlName)
	}
	stamp, err := time.Parse("20060102T150405.000000000Z", strings.SplitN(name, "-", 2)[0])
	if err != nil || stamp.Before(before.Add(-time.Second)) || stamp.After(time.Now().Add(time.Second)) {
		t.Errorf("time in name = %v (%v), want about now", stamp, err)
	}

	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := netmail.ReadMessage(f)
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	for header, got := range map[string]string{
		"Subject":               subject,
		"To":                    msg.Header.Get("To"),
		"Message-Id":            msg.Header.Get("Message-Id"),
		"Content-Language":      msg.Header.Get("Content-Language"),
		"List-Unsubscribe-Post": msg.Header.Get("List-Unsubscribe-Post"),
	} {
		wantValue := map[string]string{
			"Subject":               want.Subject,
			"To":                    "<kim@example.com>",
			"Message-Id":            "<" + want.MessageID + ">",
			"Content-Language":      "de",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}[header]
		if got != wantValue {
			t.Errorf("%s = %q, want %q", header, got, wantValue)
		}
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", mediaType, err)
	}
	var parts []string
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(p))
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts = append(parts, ct+": "+string(body))
	}
	wantParts := []string{"text/plain: Grüße!\r\n", "text/html: <p>Grüße!</p>"}
	if !slices.Equal(parts, wantParts) {
		t.Errorf("parts = %q, want %q", parts, wantParts)
	}
}

func TestDirNamesAreUniqueAndSortByTime(t *testing.T) {
	dir := t.TempDir()
	d, err := mailer.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := d.Send(context.Background(), email("kim@example.com")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, _ := os.ReadDir(dir)
	if len(entries) != n {
		t.Errorf("%d files, want %d: names must not collide", len(entries), n)
	}
}

func TestDirRefusesWhatSMTPWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	d, err := mailer.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Send(context.Background(), email("kim@example.com\r\nBcc: evil@attacker.example"))
	if !errors.Is(err, dispatcher.ErrPermanent) || strings.Contains(err.Error(), "kim@example.com") {
		t.Errorf("err = %v, want permanent with the address masked", err)
	}
	// Unusual but valid addresses get a hashed file name.
	if err := d.Send(context.Background(), email(`"Kim Doe"@example.com`)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !regexp.MustCompile(`-email-h[0-9a-f]{12}\.eml$`).MatchString(entries[0].Name()) {
		t.Errorf("entries = %v, want one file named by hash", entries)
	}
}

func TestNewDirFailsOnAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mailer.NewDir(file); err == nil {
		t.Error("NewDir on a regular file succeeded")
	}
}
