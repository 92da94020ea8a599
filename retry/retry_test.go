package retry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(7 * time.Second).Format(http.TimeFormat)}}, 7 * time.Second},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-4"}}, 0},
	}
	for _, tt := range tests {
		if got := Parse(tt.h, now); got != tt.want {
			t.Errorf("Parse(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestDoerFillsSlot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, slot := WithSlot(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := Doer{Client: srv.Client()}.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if slot.Wait != 2*time.Second {
		t.Fatalf("slot %v, want 2s", slot.Wait)
	}
}

func TestBackoffAndSleep(t *testing.T) {
	for attempt, base := range []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second} {
		if attempt == 0 {
			continue
		}
		for range 20 {
			if d := Backoff(attempt); d < base/2 || d >= base*3/2 {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v)", attempt, d, base/2, base*3/2)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep ignored a cancelled context")
	}
}

func TestDescribe(t *testing.T) {
	param := "language"
	f := Describe(fmt.Errorf("wrapped: %w", &openai.APIError{HTTPStatusCode: 400, Message: "Invalid language 'eng'", Param: &param, Code: "invalid_value"}), 100)
	if f.Status != 400 || f.Param != "language" || f.Code != "invalid_value" || f.What != "400 Bad Request: Invalid language 'eng'" {
		t.Errorf("API error: %+v", f)
	}
	f = Describe(&openai.RequestError{HTTPStatusCode: 502, Body: []byte(strings.Repeat("x", 50))}, 10)
	if f.Status != 502 || f.What != "502 Bad Gateway: xxxxxxxxxx…" {
		t.Errorf("request error: %+v", f)
	}
	if f := Describe(fmt.Errorf("dial tcp: refused"), 10); f.Status != 0 {
		t.Errorf("network error: %+v", f)
	}
}
