package main

import (
	"fmt"
	"net/http"

	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/receiver/jwks"
	"github.com/trackhook/trackhook/receiver/source"
	"github.com/trackhook/trackhook/signature"
)

// verifierSigner is what every secret-based source offers: verification for
// the receiver, signing for `trackhook sign` and the tests.
type verifierSigner interface {
	signature.Verifier
	signature.Signer
}

// sourceKind is one webhook sender trackhook knows.
type sourceKind struct {
	name string // the {source} path segment
	env  string // TRACKHOOK_<env>_SECRET holds its secrets; TRACKHOOK_<env>_PATH_TOKEN its optional path tokens
	// verifier builds the verifier from the configured secrets.
	verifier func(secrets []string) (verifierSigner, error)
	adapter  func(c *carrier.Catalog) source.Adapter
	// ping answers an unsigned creation handshake (nil for none).
	ping func([]byte, http.Header) bool
}

// sourceKinds is the one list of secret-based senders: the receiver's
// registry, the configuration and `trackhook sign` all read it.
var sourceKinds = []sourceKind{
	{name: "aftership", env: "AFTERSHIP",
		verifier: func(s []string) (verifierSigner, error) { return signature.NewAfterShip(s...) },
		adapter:  func(c *carrier.Catalog) source.Adapter { return source.AfterShip{Carriers: c} }},
	{name: "trackingmore", env: "TRACKINGMORE",
		verifier: func(s []string) (verifierSigner, error) { return signature.NewTrackingMore(s...) },
		adapter:  func(c *carrier.Catalog) source.Adapter { return source.TrackingMore{Carriers: c} }},
	{name: "easypost", env: "EASYPOST",
		verifier: func(s []string) (verifierSigner, error) { return signature.NewEasyPost(s...) },
		adapter:  func(c *carrier.Catalog) source.Adapter { return source.EasyPost{Carriers: c} }},
	{name: "17track", env: "SEVENTEENTRACK",
		verifier: func(s []string) (verifierSigner, error) { return signature.NewSeventeenTrack(s...) },
		adapter:  func(c *carrier.Catalog) source.Adapter { return source.SeventeenTrack{Carriers: c} }},
	{name: "woocommerce", env: "WOOCOMMERCE",
		verifier: func(s []string) (verifierSigner, error) { return signature.NewWooCommerce(s...) },
		adapter:  func(c *carrier.Catalog) source.Adapter { return source.WooCommerce{Carriers: c} },
		ping:     source.WooCommercePing},
	{name: "standard", env: "STANDARD",
		verifier: func(s []string) (verifierSigner, error) { return signature.NewStandardWebhooks(s...) },
		adapter:  func(c *carrier.Catalog) source.Adapter { return source.Standard{Carriers: c} }},
}

func kindOf(name string) (sourceKind, bool) {
	for _, k := range sourceKinds {
		if k.name == name {
			return k, true
		}
	}
	return sourceKind{}, false
}

// buildSources is the registry of configured sources: those with secrets.
func buildSources(cfg *config, carriers *carrier.Catalog) (receiver.Registry, error) {
	reg := receiver.Registry{}
	for _, k := range sourceKinds {
		secrets, ok := cfg.Secrets[k.name]
		if !ok {
			continue
		}
		v, err := k.verifier(secrets)
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_%s_SECRET: %w", k.env, err)
		}
		reg[k.name] = receiver.Source{Verifier: v, Adapter: k.adapter(carriers), Ping: k.ping, PathTokens: cfg.PathTokens[k.name]}
	}
	// ShipEngine signs with its own RSA key, the same for all its customers,
	// so there is no secret: the path token is what ties the endpoint to
	// this shop's account, and it is what switches the source on.
	if tokens := cfg.PathTokens[shipEngine]; len(tokens) > 0 {
		v, err := signature.NewShipEngine(jwks.New(cfg.ShipEngineJWKSURL, nil))
		if err != nil {
			return nil, fmt.Errorf("TRACKHOOK_SHIPENGINE_JWKS_URL: %w", err)
		}
		reg[shipEngine] = receiver.Source{Verifier: v, Adapter: source.ShipEngine{Carriers: carriers}, PathTokens: tokens}
	}
	return reg, nil
}

const shipEngine = "shipengine"

// pathTokenSources are the sources that accept TRACKHOOK_<env>_PATH_TOKEN.
func pathTokenSources() []struct{ name, env string } {
	out := []struct{ name, env string }{{shipEngine, "SHIPENGINE"}}
	for _, k := range sourceKinds {
		out = append(out, struct{ name, env string }{k.name, k.env})
	}
	return out
}
