package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An operator edits a template and sends SIGHUP: the next message uses the
// edit; a broken edit is logged with its file and line and the previous
// templates stay in use.
func TestEndToEndTemplatesReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "locales", "de.json")
	if err := os.MkdirAll(filepath.Dir(catalog), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(catalog, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"subject.InTransit": "Eins: {{.TrackingNumber}}"}`)
	a := startApp(t, func(env map[string]string) { env["TRACKHOOK_TEMPLATES_DIR"] = dir })

	send := func(n int, number string) string {
		t.Helper()
		body := webhook("evt-hup-"+number, number, "InTransit", time.Now().Add(-time.Minute))
		if code, resp := a.postSigned(body); code != http.StatusOK {
			t.Fatalf("%d %s", code, resp)
		}
		return a.smtp.WaitForMessages(t, n, 10*time.Second)[n-1].Subject
	}
	hangup := func(wantLog string) {
		t.Helper()
		before := strings.Count(a.logs.String(), "SIGHUP")
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(a.logs.String(), "SIGHUP") == before {
			if time.Now().After(deadline) {
				t.Fatalf("no SIGHUP in the log:\n%s", a.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(a.logs.String(), wantLog) {
			t.Errorf("log lacks %q:\n%s", wantLog, a.logs.String())
		}
	}

	if got := send(1, "HANGUP000001"); got != "Eins: HANGUP000001" {
		t.Fatalf("first subject %q", got)
	}
	write(`{"subject.InTransit": "Zwei: {{.TrackingNumber}}"}`)
	hangup("templates reloaded")
	if got := send(2, "HANGUP000002"); got != "Zwei: HANGUP000002" {
		t.Errorf("subject after SIGHUP %q", got)
	}
	write("{\n\"subject.InTransit\": \"Drei: {{.TrackingNumbr}}\"\n}")
	hangup("de.json:2:")
	if got := send(3, "HANGUP000003"); got != "Zwei: HANGUP000003" {
		t.Errorf("subject after a broken edit %q, want the previous templates", got)
	}
}
