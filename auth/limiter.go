package auth

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/harkworks/hark"
)

// Limiter refuses sign-in attempts for a key (a name and an address) after
// too many failures within a window. It counts failures where its store
// keeps them: in the index, every `hark serve` of a deployment shares the
// limit (NewLimiter with the index); MemoryFailures keeps them in one
// process.
type Limiter struct {
	store  hark.SignInFailures
	max    int
	window time.Duration
}

// NewLimiter allows max failures per key within window, counted in store.
func NewLimiter(store hark.SignInFailures, max int, window time.Duration) *Limiter {
	return &Limiter{store: store, max: max, window: window}
}

// Allowed reports whether key may try now, and if not, when it may.
func (l *Limiter) Allowed(ctx context.Context, key string, now time.Time) (bool, time.Time, error) {
	recent, err := l.store.SignInFailuresSince(ctx, key, now.Add(-l.window))
	if err != nil || len(recent) < l.max {
		return err == nil, time.Time{}, err
	}
	return false, recent[len(recent)-l.max].Add(l.window), nil
}

// Failed records a failed attempt.
func (l *Limiter) Failed(ctx context.Context, key string, now time.Time) error {
	return l.store.SignInFailed(ctx, key, now, now.Add(-l.window))
}

// Succeeded forgets the key's failures.
func (l *Limiter) Succeeded(ctx context.Context, key string) error {
	return l.store.ClearSignInFailures(ctx, key)
}

// MemoryFailures keeps failed sign-ins in this process only.
func MemoryFailures() hark.SignInFailures {
	return &memoryFailures{failures: map[string][]time.Time{}}
}

type memoryFailures struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

func (m *memoryFailures) SignInFailed(_ context.Context, key string, at, forgetBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, f := range m.failures {
		f = slices.DeleteFunc(f, func(t time.Time) bool { return t.Before(forgetBefore) })
		if len(f) == 0 {
			delete(m.failures, k)
		} else {
			m.failures[k] = f
		}
	}
	m.failures[key] = append(m.failures[key], at)
	slices.SortFunc(m.failures[key], time.Time.Compare)
	return nil
}

func (m *memoryFailures) SignInFailuresSince(_ context.Context, key string, since time.Time) ([]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, t := range m.failures[key] {
		if !t.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *memoryFailures) ClearSignInFailures(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failures, key)
	return nil
}
