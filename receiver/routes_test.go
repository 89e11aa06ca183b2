package receiver_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher/state"
	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/api"
	"github.com/trackhook/trackhook/receiver/optout"
	"github.com/trackhook/trackhook/receiver/redistest"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/receiver/trackingmore"
	"github.com/trackhook/trackhook/signature"
)

// TestEveryRouteIsInOpenAPI walks the router built by routes.go (with every
// optional part switched on) and checks that each path and method is
// described in api/openapi.json, and that the document describes no route
// the router does not have.
func TestEveryRouteIsInOpenAPI(t *testing.T) {
	rs := redistest.Start(t)
	rdb := rs.Client()
	store := tracking.NewStore(rdb, tracking.Options{})
	a, err := api.New(api.Config{Store: store, Notifications: state.New(rdb, state.Options{TrackingKey: tracking.StateKey})})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := optout.NewTokens([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	tw, err := signature.NewTwilio([]string{"token"})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := url.Parse("https://track.example.com")
	oo, err := optout.New(optout.Config{Trackings: store, Suppressions: state.New(rdb, state.Options{}), Tokens: tokens, PublicURL: pub, Twilio: tw})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := trackingmore.New(trackingmore.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := receiver.New(receiver.Config{Store: store, Queue: asynq.NewClientFromRedisClient(rdb), API: a, TrackingMore: tm, OptOut: oo,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}

	routed := map[string]bool{}
	err = srv.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		tpl = stripPatterns(tpl)
		for _, m := range methods {
			routed[m+" "+tpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routed) < 40 {
		t.Fatalf("walked only %d routes", len(routed))
	}
	var missing, extra []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes not in openapi.json:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json describes routes the router does not have:\n  %s", strings.Join(extra, "\n  "))
	}
}

// stripPatterns turns mux's {name:regexp} (whose regexp may hold braces)
// into OpenAPI's {name}.
func stripPatterns(tpl string) string {
	var b strings.Builder
	for i := 0; i < len(tpl); i++ {
		if tpl[i] != '{' {
			b.WriteByte(tpl[i])
			continue
		}
		end, depth := i, 0
		for ; end < len(tpl); end++ {
			if tpl[end] == '{' {
				depth++
			} else if tpl[end] == '}' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		name, _, _ := strings.Cut(tpl[i+1:end], ":")
		b.WriteString("{" + name + "}")
		i = end
	}
	return b.String()
}
