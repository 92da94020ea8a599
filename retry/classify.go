package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/harkworks/hark"
)

// Error is a failure worth another attempt: the server was busy, failing or
// out of reach, or its answer was garbled.
type Error struct {
	// What says what went wrong, for logs and the final message:
	// "429 Too Many Requests", "network error".
	What string
	// Err is the failure itself.
	Err error
	// Invalid marks an answer that did not follow the API (or the client's
	// schema): the server's or the model's fault rather than a passing one
	// when it keeps happening.
	Invalid bool
}

// Error describes the failure.
func (e *Error) Error() string { return e.What + ": " + e.Err.Error() }

// Endpoint is an endpoint of an OpenAI-compatible server as one of hark's
// clients calls it: what Classify's errors name, and the settings they tell
// a person to check.
type Endpoint struct {
	// Server names the server in messages: "the LLM server at https://…/v1".
	Server string
	// BaseURL is the server's API root, where the endpoint's Path is.
	BaseURL string
	// Name and Path are the endpoint's: "chat completions" at
	// "/chat/completions".
	Name, Path string
	// Model is the model the requests ask for.
	Model string
	// Answer is what the endpoint answers with, for answers that are not
	// that: "a chat completion".
	Answer string
	// Env is the prefix of the settings: "HARK_LLM" for HARK_LLM_API_KEY,
	// HARK_LLM_API_KEY_FILE, HARK_LLM_BASE_URL and HARK_LLM_MODEL.
	Env string
	// Timeout is how long a request may take, as the client set it.
	Timeout time.Duration
	// Quote is how many bytes of the server's message errors quote.
	Quote int
}

// Classify reads a failed request's error, as go-openai returns it, into
// what the server said (f), and decides what to do about it where that is
// the same for every endpoint (err):
//
//   - an *Error, worth another attempt, when no answer came within the
//     Timeout, the server could not be reached, it answered 408, 429 or a
//     5xx, or it answered with something that is not the endpoint's Answer
//     (Invalid: the server may not be OpenAI-compatible);
//   - EINVALID when the server refuses hark's credentials (401, 403), or
//     has no such endpoint or model (404), naming the settings to check;
//   - nil for any other refusal (a 4xx), which only the client can explain:
//     f.Status, f.Param, f.Code and f.What say what the server said.
func (e Endpoint) Classify(failed error) (f Failure, err error) {
	f = Describe(failed, e.Quote)
	switch status := f.Status; {
	case status == 0:
		var uerr *url.Error
		switch {
		case errors.Is(failed, context.DeadlineExceeded):
			return f, &Error{What: fmt.Sprintf("no answer within %s", e.Timeout), Err: failed}
		case errors.As(failed, &uerr):
			return f, &Error{What: "network error", Err: failed}
		}
		return f, &Error{What: "an answer that is not " + e.Answer + ": is the server OpenAI-compatible?", Err: failed, Invalid: true}
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return f, &Error{What: f.What, Err: failed}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return f, hark.WrapError(hark.EINVALID, failed, "%s refused hark's credentials (%s): check %s_API_KEY or %s_API_KEY_FILE",
			e.Server, f.What, e.Env, e.Env)
	case status == http.StatusNotFound:
		return f, hark.WrapError(hark.EINVALID, failed, "%s has no %s endpoint at %s%s or no model %q (%s): check %s_BASE_URL and %s_MODEL",
			e.Server, e.Name, e.BaseURL, e.Path, e.Model, f.What, e.Env, e.Env)
	}
	return f, nil
}
