package signature

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is one recorded webhook from the repository's testdata: the exact
// body and the headers its sender attached (see testdata/README.md).
type fixture struct {
	name string
	body []byte
	h    http.Header
}

// fixtures reads testdata/<dir>/*.json (and *.txt, such as WooCommerce's
// ping) with their .headers files. The fuzz targets seed from them, so the
// header parsers start from what senders really send.
func fixtures(tb testing.TB, dir string) []fixture {
	tb.Helper()
	root := filepath.Join("..", "testdata", dir)
	heads, _ := filepath.Glob(filepath.Join(root, "*.headers"))
	var out []fixture
	for _, hp := range heads {
		base := strings.TrimSuffix(hp, ".headers")
		body, err := os.ReadFile(base + ".json")
		if err != nil {
			if body, err = os.ReadFile(base + ".txt"); err != nil {
				continue
			}
		}
		raw, err := os.ReadFile(hp)
		if err != nil {
			tb.Fatal(err)
		}
		h := http.Header{}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
				h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		out = append(out, fixture{name: filepath.Base(base), body: body, h: h})
	}
	if len(out) < 3 {
		tb.Fatalf("testdata/%s: %d recorded webhooks, want at least 3", dir, len(out))
	}
	return out
}
