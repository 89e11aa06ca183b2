package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTemplatesCommand(t *testing.T) {
	cmd := func(env map[string]string, args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := runAt(context.Background(), time.Now, args, envOf(env), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, _, err := cmd(nil, "templates", "check")
	if err != nil || !strings.Contains(out, "templates are fine") || !strings.Contains(out, "de, en") {
		t.Errorf("check: %v\n%s", err, out)
	}

	out, _, err = cmd(map[string]string{"TRACKHOOK_SHOP_NAME": "Nordlicht"}, "templates", "preview", "-lang", "de-AT", "-status", "Delivered")
	if err != nil || !strings.HasPrefix(out, "Subject: Ihre Sendung 1Z999AA10123456784 wurde zugestellt\n") || !strings.Contains(out, "Nordlicht") {
		t.Errorf("preview: %v\n%s", err, out)
	}
	out, _, err = cmd(nil, "templates", "preview", "-channel", "sms", "-status", "OutForDelivery")
	if err != nil || !strings.Contains(out, "(GSM-7, 1 segment, ") {
		t.Errorf("SMS preview: %v\n%s", err, out)
	}
	out, _, err = cmd(nil, "templates", "preview", "-html")
	if err != nil || !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Errorf("HTML preview: %v\n%.200s", err, out)
	}

	// A broken operator template: named with its file and line, exit 1.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "locales"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "locales", "de.json"), []byte("{\n  \"button\": \"Zur {{.Sendung\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = cmd(nil, "templates", "check", "-dir", dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "locales", "de.json")+":2:") || !strings.Contains(err.Error(), `"button"`) {
		t.Errorf("broken template: %v", err)
	}
	if _, _, err := cmd(nil, "templates", "frobnicate"); err == nil {
		t.Error("an unknown subcommand was accepted")
	}
}
