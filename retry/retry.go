// Package retry is what hark's clients of OpenAI-compatible servers (the
// speech-to-text engine and the language-model tagger) share for retrying:
// which failures are worth another attempt and which need a person to fix
// a setting (Endpoint.Classify), the wait a server asks for in Retry-After
// or retry-after-ms, exponential backoff with jitter when it asks for none,
// and a sleep that honours cancellation. go-openai does not return response
// headers, so an http client wrapper records them in a slot the request's
// context carries.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"
)

// Slot receives the wait asked for by the response to one request.
type Slot struct {
	// Wait is what the server asked for, 0 when it asked for nothing.
	Wait time.Duration
}

type slotKey struct{}

// WithSlot returns a context whose requests, sent through a Doer, record
// their response's Retry-After in the returned slot.
func WithSlot(ctx context.Context) (context.Context, *Slot) {
	s := &Slot{}
	return context.WithValue(ctx, slotKey{}, s), s
}

// Doer wraps an http.Client so that each response's Retry-After lands in
// the slot of the request's context.
type Doer struct{ Client *http.Client }

// Do sends req and notes the response's Retry-After.
func (d Doer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.Client.Do(req)
	if resp != nil {
		if s, ok := req.Context().Value(slotKey{}).(*Slot); ok {
			s.Wait = Parse(resp.Header, time.Now())
		}
	}
	return resp, err
}

// Parse reads how long the server asks the client to wait: OpenAI's
// retry-after-ms, or the standard Retry-After in seconds or as a date.
func Parse(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// Backoff is the wait before attempt+1 when the server gives none:
// exponential from one second, with jitter (0.5–1.5 times).
func Backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt, 1)-1, 10)
	return d/2 + rand.N(d)
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Failure is what a failed request to an OpenAI-compatible server said.
type Failure struct {
	Status int    // HTTP status; 0 when no answer came (network, timeout)
	Param  string // the request parameter the server blamed, if any
	Code   string // the server's error code, if any
	// What is the status and the server's message, for error messages.
	What string
}

// Describe reads a go-openai error: its HTTP status, the blamed parameter,
// the code and the message (cut to limit bytes).
func Describe(err error, limit int) Failure {
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
		f      Failure
		msg    string
	)
	switch {
	case errors.As(err, &apiErr):
		f.Status, msg = apiErr.HTTPStatusCode, apiErr.Message
		if apiErr.Param != nil {
			f.Param = *apiErr.Param
		}
		if apiErr.Code != nil {
			f.Code = fmt.Sprint(apiErr.Code)
		}
	case errors.As(err, &reqErr):
		f.Status = reqErr.HTTPStatusCode
		msg = strings.TrimSpace(string(reqErr.Body))
	}
	if len(msg) > limit {
		msg = msg[:limit] + "…"
	}
	f.What = fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
	if msg != "" {
		f.What += ": " + msg
	}
	return f
}
