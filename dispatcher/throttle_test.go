package dispatcher_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/trackhook/trackhook/dispatcher"
)

// A provider's "come back in n seconds" is throttling: asynq must not count
// it as a failed attempt, or a rate-limit burst burns MaxRetry and inflates
// the backoff of the next real failure.
func TestIsFailure(t *testing.T) {
	throttled := fmt.Errorf("sms: sending to +49******78: %w", &dispatcher.RetryAfterError{After: time.Second, Err: errors.New("HTTP 429")})
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"temporary", errors.New("smtp: 451 try again later"), true},
		{"permanent", fmt.Errorf("rejected: %w: %w", dispatcher.ErrPermanent, asynq.SkipRetry), true},
		{"Retry-After", throttled, false},
		{"Retry-After without a time", &dispatcher.RetryAfterError{Err: errors.New("HTTP 503")}, true},
		{"quiet hours", &dispatcher.DeferredError{After: time.Hour, Reason: "quiet hours"}, false},
	} {
		if got := dispatcher.IsFailure(tc.err); got != tc.want {
			t.Errorf("%s: IsFailure = %v, want %v", tc.name, got, tc.want)
		}
	}
}
