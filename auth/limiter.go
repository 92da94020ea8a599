package auth

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/harkworks/hark"
)

// Limiter refuses sign-in attempts for a key (a name and an address) after
// too many failures within a window. Every attempt is recorded before the
// password is checked (and forgotten when it succeeds), so attempts made in
// parallel cannot all slip through before the first failure is counted. It
// counts where its store keeps them: in the index, every `hark serve` of a
// deployment shares the limit (NewLimiter with the index); MemoryFailures
// keeps them in one process.
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

// MemoryFailures keeps failed sign-ins in this process only.
func MemoryFailures() hark.SignInFailures {
	return &memoryFailures{failures: map[string][]time.Time{}}
}

type memoryFailures struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

func (m *memoryFailures) SignInAttempt(_ context.Context, key string, at, forgetBefore time.Time) ([]time.Time, error) {
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
	return slices.Clone(m.failures[key]), nil
}

func (m *memoryFailures) ForgetSignInAttempt(_ context.Context, key string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := slices.IndexFunc(m.failures[key], at.Equal); i >= 0 {
		m.failures[key] = slices.Delete(m.failures[key], i, i+1)
	}
	return nil
}

func (m *memoryFailures) ClearSignInFailures(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.failures, key)
	return nil
}
