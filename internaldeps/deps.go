// Package internaldeps is temporary: it pins dependencies while packages are being written.
package internaldeps

import (
	_ "github.com/alicebob/miniredis/v2"
	_ "github.com/emersion/go-sasl"
	_ "github.com/emersion/go-smtp"
	_ "github.com/gorilla/mux"
	_ "github.com/hibiken/asynq"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/wneessen/go-mail"
	_ "github.com/wneessen/go-mail/smtp"
	_ "golang.org/x/text/language"
	_ "golang.org/x/text/language/display"
	_ "golang.org/x/text/unicode/norm"
	_ "golang.org/x/text/message"
)
