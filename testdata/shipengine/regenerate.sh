#!/bin/sh
# Re-signs every body in this folder the way ShipEngine signs a webhook,
# with a fresh throwaway RSA key, and rewrites jwks.json with its public half.
# The private key lives in a temporary directory and is deleted on exit: it
# is not kept anywhere, so re-run this script (which re-signs every body)
# after editing any body. Each body keeps the X-Shipengine-Timestamp already
# recorded in its .headers (a new body gets the current time).
#
# Signed message: <timestamp header value> "." <body bytes>; RSASSA-PKCS1-v1_5,
# SHA-256, standard base64. Needs openssl, xxd and basenc (coreutils).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
kid=${KID:-trackhook-test}

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
n=$(openssl rsa -in "$tmp/key.pem" -noout -modulus 2>/dev/null | cut -d= -f2 | xxd -r -p | basenc --base64url -w0 | tr -d '=')
e=$(openssl rsa -in "$tmp/key.pem" -noout -text 2>/dev/null | sed -n 's/^publicExponent: \([0-9]*\) .*/\1/p')
[ "$e" = 65537 ] || { echo "unexpected exponent $e" >&2; exit 1; }
printf '{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"%s","n":"%s","e":"AQAB"}]}\n' "$kid" "$n" >jwks.json

for body in *.json; do
	[ "$body" = jwks.json ] && continue
	name=${body%.json}
	ts=$(sed -n 's/^X-Shipengine-Timestamp: *//p' "$name.headers" 2>/dev/null | tr -d '\r')
	[ -n "$ts" ] || ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	sig=$({ printf '%s.' "$ts"; cat "$body"; } | openssl dgst -sha256 -sign "$tmp/key.pem" -binary | base64 -w0)
	printf 'Content-Type: application/json\nUser-Agent: ShipEngine/v1\nX-Shipengine-Rsa-Sha256-Key-Id: %s\nX-Shipengine-Rsa-Sha256-Signature: %s\nX-Shipengine-Timestamp: %s\n' \
		"$kid" "$sig" "$ts" >"$name.headers"
	echo "signed $body at $ts"
done
