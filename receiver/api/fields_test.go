package api

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsIgnoredFields: every field a served version accepts and
// does not store is named in the README's list, and the list names no field
// trackhook stores or refuses.
func TestREADMEListsIgnoredFields(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- ignored-fields:start -->")
	list, _, ok2 := strings.Cut(rest, "<!-- ignored-fields:end -->")
	if !ok || !ok2 {
		t.Fatal("README has no ignored-fields list")
	}
	named := map[string]bool{}
	for _, part := range strings.Split(list, "`")[1:] {
		if part != "" && !strings.ContainsAny(part, " \n,;") {
			named[part] = true
		}
	}
	accepted := map[string]bool{}
	for _, v := range Versions {
		for _, create := range []bool{true, false} {
			for _, f := range IgnoredFields(v, create) {
				accepted[f] = true
				if !named[f] {
					t.Errorf("version %s accepts and ignores %q, which the README does not list", v.Name, f)
				}
			}
		}
	}
	accepted["id"] = true // a customer's id (2026-07)
	for f := range named {
		if !accepted[f] {
			t.Errorf("the README lists %q as accepted and ignored, but no version does", f)
		}
	}
}
