package source

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryAdapterRefusesWhatIsNotOneJSONValue feeds every sender's recorded
// webhooks, spoilt the ways a broken or hostile sender spoils them, to its
// adapter: each answer is ErrMalformed naming the problem.
func TestEveryAdapterRefusesWhatIsNotOneJSONValue(t *testing.T) {
	spoil := []struct {
		name string
		fn   func([]byte) []byte
		want string
	}{
		// json.Decoder.More is false before '}' and ']': these once passed.
		{"trailing brace", func(b []byte) []byte { return append(bytes.Clone(b), "}"...) }, "trailing data"},
		{"trailing bracket", func(b []byte) []byte { return append(bytes.Clone(b), " ]]"...) }, "trailing data"},
		{"second object", func(b []byte) []byte { return append(bytes.Clone(b), "{}"...) }, "trailing data"},
		{"invalid UTF-8", func(b []byte) []byte {
			i := bytes.IndexByte(b, '"') + 1
			return append(append(bytes.Clone(b[:i]), 0xff), b[i:]...)
		}, "not valid UTF-8 (byte"},
		{"nested 100,000 deep", func([]byte) []byte { return []byte(`{"a":` + strings.Repeat("[", 100000)) }, "exceeded max depth"},
	}
	for _, src := range fixtureSources() {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", src.dir, "*.json"))
		for _, f := range files {
			if _, err := os.Stat(strings.TrimSuffix(f, ".json") + ".headers"); err != nil {
				continue // jwks.json
			}
			body, _ := os.ReadFile(f)
			h := readHeaders(t, strings.TrimSuffix(f, ".json")+".headers")
			for _, s := range spoil {
				t.Run(src.dir+"/"+filepath.Base(f)+"/"+s.name, func(t *testing.T) {
					_, err := src.adapter.Decode(s.fn(body), h)
					if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), s.want) {
						t.Fatalf("err = %v, want ErrMalformed naming %q", err, s.want)
					}
				})
			}
		}
	}
}
