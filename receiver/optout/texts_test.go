package optout

import (
	"reflect"
	"strings"
	"testing"
)

// TestEveryLocaleHasEveryText: no blank sentence, and a %s exactly where
// English has one.
func TestEveryLocaleHasEveryText(t *testing.T) {
	en := reflect.ValueOf(locales[0].texts)
	for _, l := range locales {
		v := reflect.ValueOf(l.texts)
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			s, want := v.Field(i).String(), en.Field(i).String()
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: %s is empty", l.tag, name)
			}
			if strings.Count(s, "%") != strings.Count(want, "%") || strings.Count(s, "%s") != strings.Count(want, "%s") {
				t.Errorf("%s: %s = %q has other verbs than English %q", l.tag, name, s, want)
			}
		}
	}
	if locales[0].tag.String() != "en" {
		t.Fatalf("the first locale is the default and must be English, not %s", locales[0].tag)
	}
}

func TestKeyword(t *testing.T) {
	for in, want := range map[string]string{
		"STOP": "STOP", "stop": "STOP", " Quit \n": "QUIT", "stop please": "STOP PLEASE",
		"ſtop": "ſTOP", "Stop.": "STOP.", "": "",
	} {
		if got := keyword(in); got != want {
			t.Errorf("keyword(%q) = %q, want %q", in, got, want)
		}
	}
}
