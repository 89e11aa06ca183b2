package main

import (
	"fmt"
	"time"

	"github.com/trackhook/trackhook/receiver"
	"github.com/trackhook/trackhook/receiver/carrier"
	"github.com/trackhook/trackhook/signature/jwks"
)

// The senders are catalogued once, in receiver.Senders. This file only
// turns the configuration into a receiver.SenderConfig per sender.

// buildSources is the registry of the configured senders. now is the
// program's clock: the verifiers check signed timestamps against it and the
// JWKS cache times its refreshes by it.
func buildSources(cfg *config, carriers *carrier.Catalog, now func() time.Time) (receiver.Registry, error) {
	configs := map[string]receiver.SenderConfig{}
	for _, s := range receiver.Senders() {
		c := receiver.SenderConfig{Secrets: cfg.Secrets[s.Name], PathTokens: cfg.PathTokens[s.Name], Now: now}
		if s.Credential == receiver.PublishedKey {
			url, ok := jwksURLs(cfg)[s.Name]
			if !ok {
				return nil, fmt.Errorf("%s: no TRACKHOOK_%s_JWKS_URL", s.Name, s.Env)
			}
			// Nothing is fetched until the first webhook needs a key.
			c.Keys = jwks.New(url, nil, jwks.WithClock(now))
		}
		configs[s.Name] = c
	}
	return receiver.NewRegistry(configs, carriers)
}

// jwksURLs is where each receiver.PublishedKey sender's public keys are
// fetched (TRACKHOOK_<env>_JWKS_URL); ShipEngine is the only such sender.
func jwksURLs(cfg *config) map[string]string {
	return map[string]string{"shipengine": cfg.ShipEngineJWKSURL}
}
