package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/tracking"
	"github.com/trackhook/trackhook/signature"
)

const pathToken = "e2e-path-token-0123456789"

// shipEngine is the one receiver.PublishedKey sender: it signs with a key
// pair of its own, which the tests generate and serve as a JWKS.
const shipEngine = "shipengine"

// senders holds, for one test, how to sign as every source: the test
// secrets from testdata/<source>/secret.txt, and for ShipEngine a key the
// test generates and serves as a JWKS.
type senders struct {
	t       *testing.T
	secrets map[string]string
	se      *signature.ShipEngineSigner
	jwks    *httptest.Server
}

func newSenders(t *testing.T) *senders {
	t.Helper()
	s := &senders{t: t, secrets: map[string]string{}}
	for _, k := range receiver.Senders() {
		if k.Credential != receiver.SharedSecret {
			continue
		}
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", k.Name, "secret.txt"))
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		s.secrets[k.Name] = strings.TrimSpace(string(b))
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if s.se, err = signature.NewShipEngineSigner("e2e-key", key); err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{"keys": []map[string]string{{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "e2e-key",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}}
	s.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(jwk) }))
	t.Cleanup(s.jwks.Close)
	return s
}

// env configures every source in the app under test.
func (s *senders) env(env map[string]string) {
	for _, k := range receiver.Senders() {
		if k.Credential == receiver.SharedSecret {
			env["TRACKHOOK_"+k.Env+"_SECRET"] = s.secrets[k.Name]
		}
	}
	env["TRACKHOOK_TRACKINGMORE_PATH_TOKEN"] = pathToken
	env["TRACKHOOK_SHIPENGINE_PATH_TOKEN"] = pathToken
	env["TRACKHOOK_SHIPENGINE_JWKS_URL"] = s.jwks.URL
}

// sign returns the headers source would send for body at time at; with
// wrong set, signed with a secret trackhook does not know.
func (s *senders) sign(source string, body []byte, at time.Time, wrong bool) http.Header {
	s.t.Helper()
	var signer signature.Signer
	if source == shipEngine {
		signer = s.se
		if wrong {
			other, _ := rsa.GenerateKey(rand.Reader, 2048)
			signer, _ = signature.NewShipEngineSigner("e2e-key", other)
		}
	} else {
		k, ok := receiver.SenderNamed(source)
		if !ok {
			s.t.Fatalf("no sender %q", source)
		}
		secret := s.secrets[source]
		if wrong {
			secret = "not-the-secret-" + secret
			if source == "standard" {
				secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("a different key of 24+ bytes"))
			}
		}
		var err error
		if signer, err = k.Signer([]string{secret}); err != nil {
			s.t.Fatal(err)
		}
	}
	h, err := signer.Sign(body, at)
	if err != nil {
		s.t.Fatal(err)
	}
	h.Set("Content-Type", "application/json")
	return h
}

func webhookPath(source string) string {
	if source == "trackingmore" || source == shipEngine {
		return "/webhooks/" + source + "/" + pathToken
	}
	return "/webhooks/" + source
}

func (a *app) postAs(source string, body []byte, h http.Header) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.base+webhookPath(source), bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func readFixture(t *testing.T, source, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", source, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEverySourceEndToEnd: for each sender, a signed request from its
// testdata moves a tracking an admin created with a subscriber, and the
// email arrives; a wrong signature, a stale timestamp and a malformed body
// are refused and store nothing.
func TestEverySourceEndToEnd(t *testing.T) {
	s := newSenders(t)
	a := startApp(t, s.env)
	sources := []struct {
		source, fixture string
		signsTime       bool
	}{
		{"aftership", "in_transit", false},
		{"trackingmore", "transit", true},
		{"easypost", "out_for_delivery", false},
		{"17track", "out_for_delivery", false},
		{"woocommerce", "germanized_delivered", false},
		{"standard", "in_transit", true},
		{shipEngine, "out_for_delivery", true},
	}
	store := tracking.NewStore(a.redis.Client(), tracking.Options{})
	adapters := map[string]func(body []byte, h http.Header) ([]tracking.Event, error){}
	for _, k := range receiver.Senders() {
		adapters[k.Name] = k.Adapter(carrier.Default()).Decode
	}
	for i, tc := range sources {
		t.Run(tc.source, func(t *testing.T) {
			body := readFixture(t, tc.source, tc.fixture)
			now := time.Now()
			var slug, number string
			if tc.source == shipEngine {
				var p struct {
					Data struct{ TrackingNumber, CarrierCode string } `json:"data"`
				}
				_ = json.Unmarshal(bytes.ReplaceAll(bytes.ReplaceAll(body, []byte(`"tracking_number"`), []byte(`"TrackingNumber"`)), []byte(`"carrier_code"`), []byte(`"CarrierCode"`)), &p)
				slug, number = carrier.Default().Normalize(p.Data.CarrierCode), p.Data.TrackingNumber
			} else {
				evs, err := adapters[tc.source](body, s.sign(tc.source, body, now, false))
				if err != nil || len(evs) == 0 {
					t.Fatalf("fixture does not decode: %v", err)
				}
				slug, number = evs[0].Slug, evs[0].TrackingNumber
			}
			subscriber := fmt.Sprintf("e2e-%d@example.com", i)
			if code, env := a.api("POST", "/trackings", map[string]any{"tracking": map[string]any{
				"slug": slug, "tracking_number": number, "emails": []string{subscriber}}}); code != 201 {
				t.Fatalf("create %s/%s: %d %v", slug, number, code, env)
			}
			id := tracking.ID(slug, number)

			// Refused: nothing stored.
			if code, body := a.postAs(tc.source, body, s.sign(tc.source, body, now, true)); code != http.StatusUnauthorized {
				t.Errorf("wrong signature: %d %s, want 401", code, body)
			}
			if tc.signsTime {
				if code, body := a.postAs(tc.source, body, s.sign(tc.source, body, now.Add(-10*time.Minute), false)); code != http.StatusUnauthorized {
					t.Errorf("stale timestamp: %d %s, want 401", code, body)
				}
				if code, body := a.postAs(tc.source, body, s.sign(tc.source, body, now.Add(10*time.Minute), false)); code != http.StatusUnauthorized {
					t.Errorf("timestamp from the future: %d %s, want 401", code, body)
				}
			}
			bad := []byte(`{"data":[`)
			if code, body := a.postAs(tc.source, bad, s.sign(tc.source, bad, now, false)); code != http.StatusBadRequest {
				t.Errorf("malformed body: %d %s, want 400", code, body)
			}
			if st, err := store.Get(context.Background(), id); err != nil || st.Status != tracking.Pending || len(st.Checkpoints) != 0 {
				t.Fatalf("a refused webhook changed the tracking: %+v, %v", st, err)
			}

			code, resp := a.postAs(tc.source, body, s.sign(tc.source, body, now, false))
			if code != http.StatusOK {
				t.Fatalf("signed fixture: %d %s", code, resp)
			}
			waitFor(t, 10*time.Second, "the email to "+subscriber, func() bool {
				for _, m := range a.smtp.Messages() {
					if len(m.To) == 1 && m.To[0] == subscriber {
						return true
					}
				}
				return false
			})
			st, err := store.Get(context.Background(), id)
			if err != nil || !st.Status.Valid() || st.Status == tracking.Pending {
				t.Fatalf("tracking after the webhook: %+v, %v", st, err)
			}
		})
	}
	// A path-token source without its token is hidden.
	if code, _ := a.postAs("aftership", []byte("{}"), nil); code != http.StatusUnauthorized {
		t.Errorf("aftership unsigned: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, a.base+"/webhooks/trackingmore", strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("trackingmore without its path token: %v %v, want 404", resp.StatusCode, err)
	}
	// WooCommerce's creation ping: exactly 200, before any signature.
	ping, err := os.ReadFile(filepath.Join("..", "..", "testdata", "woocommerce", "ping.txt"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, body := a.postAs("woocommerce", ping, h); code != http.StatusOK {
		t.Errorf("WooCommerce ping: %d %s, want 200", code, body)
	}
}

// TestOneParcelAcrossSenders: a WooCommerce order ships a UPS parcel; then
// AfterShip, TrackingMore and ShipEngine report it. One tracking, one
// message per status to the billing email, and replays send nothing.
func TestOneParcelAcrossSenders(t *testing.T) {
	s := newSenders(t)
	a := startApp(t, s.env)
	const number = "1Z999AA10123456784"
	const billing = "lena@example.com"
	base := time.Now().UTC().Add(-4 * time.Hour).Truncate(time.Second)

	// 1. WooCommerce with Advanced Shipment Tracking: shipped (InfoReceived, no message by default).
	var order map[string]any
	if err := json.Unmarshal(readFixture(t, "woocommerce", "ast_order_updated"), &order); err != nil {
		t.Fatal(err)
	}
	order["billing"].(map[string]any)["email"] = billing
	order["date_modified_gmt"] = base.Format("2006-01-02T15:04:05")
	for _, m := range order["meta_data"].([]any) {
		meta := m.(map[string]any)
		if meta["key"] == "_wc_shipment_tracking_items" {
			item := meta["value"].([]any)[0].(map[string]any)
			item["tracking_provider"], item["tracking_number"] = "ups", number
			item["date_shipped"] = fmt.Sprint(base.Unix())
		}
	}
	woo, _ := json.Marshal(order)
	h := s.sign("woocommerce", woo, time.Now(), false)
	h.Set("X-WC-Webhook-Topic", "order.updated")

	// 2. AfterShip: in transit.
	as := webhook("as-evt-1", number, "InTransit", base.Add(time.Hour), func(m map[string]any) {
		m["slug"], m["emails"], m["smses"], m["language"] = "ups", nil, nil, ""
	})
	// 3. TrackingMore: out for delivery (pickup001).
	tm, _ := json.Marshal(map[string]any{"code": 200, "message": "Success", "data": map[string]any{
		"tracking_number": number, "courier_code": "ups", "delivery_status": "pickup", "substatus": "pickup001",
		"latest_checkpoint_time": base.Add(2 * time.Hour).Format(time.RFC3339),
		"origin_info": map[string]any{"trackinfo": []map[string]any{{"checkpoint_date": base.Add(2 * time.Hour).Format(time.RFC3339),
			"checkpoint_delivery_status": "pickup", "checkpoint_delivery_substatus": "pickup001", "tracking_detail": "Out For Delivery Today"}}}}})
	// 4. ShipEngine: delivered.
	se, _ := json.Marshal(map[string]any{"resource_url": "https://api.shipengine.com/v1/tracking?carrier_code=ups&tracking_number=" + number,
		"resource_type": "API_TRACK", "data": map[string]any{"tracking_number": number, "carrier_code": "ups", "status_code": "DE",
			"status_description": "Delivered", "events": []map[string]any{{"occurred_at": base.Add(3 * time.Hour).Format(time.RFC3339),
				"description": "Delivered", "status_code": "DE", "city_locality": "Leipzig", "country_code": "DE"}}}})

	steps := []struct {
		source string
		body   []byte
		h      http.Header
	}{
		{"woocommerce", woo, h},
		{"aftership", as, s.sign("aftership", as, time.Now(), false)},
		{"trackingmore", tm, s.sign("trackingmore", tm, time.Now(), false)},
		{shipEngine, se, s.sign(shipEngine, se, time.Now(), false)},
	}
	for i, st := range steps {
		if code, body := a.postAs(st.source, st.body, st.h); code != http.StatusOK {
			t.Fatalf("step %d (%s): %d %s", i+1, st.source, code, body)
		}
		a.quiet()
	}
	mails := a.smtp.WaitForMessages(t, 3, 15*time.Second)
	a.quiet()
	if n := len(a.smtp.Messages()); n != 3 {
		t.Fatalf("%d emails, want 3 (InTransit, OutForDelivery, Delivered)", n)
	}
	for _, m := range mails {
		if len(m.To) != 1 || m.To[0] != billing {
			t.Fatalf("email to %v, want the billing address", m.To)
		}
	}
	store := tracking.NewStore(a.redis.Client(), tracking.Options{})
	list, total, err := store.List(context.Background(), tracking.ListQuery{})
	if err != nil || total != 1 {
		t.Fatalf("%d trackings (%v), want one", total, err)
	}
	if got := list[0]; got.Status != tracking.Delivered || got.OrderNumber == "" || got.ID != tracking.ID("ups", number) {
		t.Fatalf("tracking %+v", got)
	}
	// Replays from every sender: nothing new.
	for _, st := range steps {
		hh := st.h
		if st.source != "woocommerce" && st.source != "aftership" {
			hh = s.sign(st.source, st.body, time.Now(), false)
		}
		if code, body := a.postAs(st.source, st.body, hh); code != http.StatusOK {
			t.Fatalf("replay %s: %d %s", st.source, code, body)
		}
	}
	a.quiet()
	if n := len(a.smtp.Messages()); n != 3 {
		t.Fatalf("after replays: %d emails, want still 3", n)
	}
}

// TestSignedTimesFollowTheProgramClock: the verifiers of the senders that
// sign a timestamp read the program's clock (runAt), not the machine's: on
// a clock years ahead, a request signed at the program's time is accepted
// and one signed at the machine's time is refused as too old.
func TestSignedTimesFollowTheProgramClock(t *testing.T) {
	s := newSenders(t)
	clock := clockAt(time.Date(2031, 5, 4, 12, 0, 0, 0, time.UTC))
	a := startAppAt(t, clock.Now, s.env)
	for _, tc := range []struct{ source, fixture string }{
		{"trackingmore", "transit"}, {"standard", "in_transit"}, {shipEngine, "out_for_delivery"},
	} {
		body := readFixture(t, tc.source, tc.fixture)
		if code, resp := a.postAs(tc.source, body, s.sign(tc.source, body, time.Now(), false)); code != http.StatusUnauthorized {
			t.Errorf("%s signed on the machine's clock: %d %s, want 401", tc.source, code, resp)
		}
		if code, resp := a.postAs(tc.source, body, s.sign(tc.source, body, clock.Now(), false)); code != http.StatusOK {
			t.Errorf("%s signed on the program's clock: %d %s, want 200", tc.source, code, resp)
		}
	}
}
