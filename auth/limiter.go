package auth

import (
	"context"
	"time"

	"github.com/harkworks/hark"
)

// Limiter refuses sign-in attempts for a key (a name and an address) after
// too many failures within a window. Every attempt is recorded before the
// password is checked (and forgotten when it succeeds), so attempts made in
// parallel cannot all slip through before the first failure is counted. It
// counts them in the index, so every `hark serve` of a deployment shares the
// limit.
type Limiter struct {
	store  hark.SignInFailures
	max    int
	window time.Duration
}

// NewLimiter allows max failed attempts per key within window, counted in
// store.
func NewLimiter(store hark.SignInFailures, max int, window time.Duration) *Limiter {
	return &Limiter{store: store, max: max, window: window}
}

// Try records an attempt for key and reports whether it may go ahead: not
// when max attempts are already counted within the window. If not, until
// says when it may.
func (l *Limiter) Try(ctx context.Context, key string, now time.Time) (ok bool, until time.Time, err error) {
	times, err := l.store.SignInAttempt(ctx, key, now, now.Add(-l.window))
	if err != nil {
		return false, time.Time{}, err
	}
	if len(times) <= l.max {
		return true, time.Time{}, nil
	}
	return false, times[len(times)-1-l.max].Add(l.window), nil
}

// Succeeded forgets a successful attempt: all of the key's failures when
// clear is set (the name signed in), else only this attempt (the address,
// whose other failures stay counted).
func (l *Limiter) Succeeded(ctx context.Context, key string, at time.Time, clear bool) error {
	if clear {
		return l.store.ClearSignInFailures(ctx, key)
	}
	return l.store.ForgetSignInAttempt(ctx, key, at)
}
