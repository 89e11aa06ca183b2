package mailer

import (
	"errors"
	"testing"

	"github.com/wneessen/go-mail/smtp"
)

func TestAutoAuthPicksMechanismAndNeverSendsPasswordsInTheClear(t *testing.T) {
	for _, tc := range []struct {
		name     string
		info     smtp.ServerInfo
		wantMech string // "" means refused
	}{
		{"PLAIN over TLS", smtp.ServerInfo{Name: "mail.example", TLS: true, Auth: []string{"PLAIN", "LOGIN"}}, "PLAIN"},
		{"LOGIN over TLS", smtp.ServerInfo{Name: "mail.example", TLS: true, Auth: []string{"LOGIN"}}, "LOGIN"},
		{"SCRAM preferred", smtp.ServerInfo{Name: "mail.example", TLS: true, Auth: []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"}}, "SCRAM-SHA-256"},
		{"CRAM-MD5 in the clear", smtp.ServerInfo{Name: "mail.example", Auth: []string{"PLAIN", "CRAM-MD5"}}, "CRAM-MD5"},
		{"PLAIN in the clear refused", smtp.ServerInfo{Name: "mail.example", Auth: []string{"PLAIN", "LOGIN"}}, ""},
		{"PLAIN in the clear to localhost", smtp.ServerInfo{Name: "127.0.0.1", Auth: []string{"PLAIN"}}, "PLAIN"},
		{"no AUTH offered", smtp.ServerInfo{Name: "mail.example", TLS: true}, ""},
		{"only unknown mechanisms", smtp.ServerInfo{Name: "mail.example", TLS: true, Auth: []string{"GSSAPI"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &autoAuth{user: "shop", pass: "hunter2", host: tc.info.Name}
			mech, resp, err := a.Start(&tc.info)
			if tc.wantMech == "" {
				if !errors.Is(err, errNoAuthMech) {
					t.Fatalf("Start = %q, %v; want errNoAuthMech", mech, err)
				}
				if resp != nil {
					t.Errorf("sent %q although refused", resp)
				}
				return
			}
			if err != nil || mech != tc.wantMech {
				t.Fatalf("Start = %q, %v; want %q", mech, err, tc.wantMech)
			}
		})
	}
}
