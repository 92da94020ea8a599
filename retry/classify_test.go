package retry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/harkworks/hark"
)

// want is what Classify should make of a failure: a *Error (again), a hark
// error of a code, or nil with the server's words in the Failure.
type want struct {
	again   bool
	invalid bool
	code    string // a hark error code, when not again
	msg     string // in the error, or in Failure.What when the client decides
	status  int
	param   string
	apiCode string
}

func testEndpoint(baseURL string) Endpoint {
	return Endpoint{Server: "the LLM server at " + baseURL, BaseURL: baseURL, Name: "chat completions", Path: "/chat/completions",
		Model: "gpt-test", Answer: "a chat completion", Env: "HARK_LLM", Timeout: 2 * time.Second, Quote: 40}
}

func checkClassify(t *testing.T, e Endpoint, failed error, w want) {
	t.Helper()
	f, err := e.Classify(failed)
	if f.Status != w.status || f.Param != w.param || f.Code != w.apiCode {
		t.Errorf("failure %+v, want status %d, param %q, code %q", f, w.status, w.param, w.apiCode)
	}
	var again *Error
	switch {
	case w.again:
		if !errors.As(err, &again) || again.Invalid != w.invalid || !strings.Contains(again.What, w.msg) || again.Err != failed {
			t.Errorf("Classify(%v) = %#v, want another attempt (invalid %v) for %q", failed, err, w.invalid, w.msg)
		}
	case w.code != "":
		if hark.ErrorCode(err) != w.code || !strings.Contains(err.Error(), w.msg) || !errors.Is(err, failed) {
			t.Errorf("Classify(%v) = %v, want %s with %q", failed, err, w.code, w.msg)
		}
	default:
		if err != nil || !strings.Contains(f.What, w.msg) {
			t.Errorf("Classify(%v) = %v, %q; want the client to decide on %q", failed, err, f.What, w.msg)
		}
	}
}

// TestClassifyErrors classifies the error values go-openai and net/http
// return.
func TestClassifyErrors(t *testing.T) {
	e := testEndpoint("https://llm.example/v1")
	param := "language"
	notJSON := json.Unmarshal([]byte("<html>Welcome to nginx!</html>"), &openai.ChatCompletionResponse{})
	refused := &url.Error{Op: "Post", URL: "https://llm.example/v1/chat/completions",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		name string
		err  error
		want want
	}{
		{"rate limited", fmt.Errorf("send: %w", &openai.APIError{HTTPStatusCode: 429, Message: "Rate limit reached", Code: "rate_limit_exceeded"}),
			want{again: true, msg: "429 Too Many Requests: Rate limit reached", status: 429, apiCode: "rate_limit_exceeded"}},
		{"request timeout", &openai.APIError{HTTPStatusCode: 408, Message: "Request timed out"}, want{again: true, msg: "408 Request Timeout", status: 408}},
		{"server error", &openai.APIError{HTTPStatusCode: 500, Message: "The server had an error"}, want{again: true, msg: "500 Internal Server Error", status: 500}},
		{"overloaded", &openai.APIError{HTTPStatusCode: 503, Message: "The server is overloaded or not ready yet."}, want{again: true, msg: "503 Service Unavailable", status: 503}},
		{"bad gateway page", &openai.RequestError{HTTPStatusCode: 502, Body: []byte("<html><head><title>502 Bad Gateway</title></head></html>")},
			want{again: true, msg: "502 Bad Gateway: <html><head><title>502 Bad Gateway</titl…", status: 502}},
		{"timeout", &url.Error{Op: "Post", URL: "https://llm.example/v1/chat/completions", Err: context.DeadlineExceeded},
			want{again: true, msg: "no answer within 2s"}},
		{"refused connection", refused, want{again: true, msg: "network error"}},
		{"not JSON", notJSON, want{again: true, invalid: true, msg: "an answer that is not a chat completion: is the server OpenAI-compatible?"}},
		{"wrong key", &openai.APIError{HTTPStatusCode: 401, Message: "Incorrect API key provided.", Code: "invalid_api_key"},
			want{code: hark.EINVALID, msg: "the LLM server at https://llm.example/v1 refused hark's credentials (401 Unauthorized: Incorrect API key provided.): check HARK_LLM_API_KEY or HARK_LLM_API_KEY_FILE",
				status: 401, apiCode: "invalid_api_key"}},
		{"forbidden", &openai.APIError{HTTPStatusCode: 403, Message: "Country, region, or territory not supported"},
			want{code: hark.EINVALID, msg: "refused hark's credentials (403 Forbidden: Country", status: 403}},
		{"unknown model", &openai.APIError{HTTPStatusCode: 404, Message: "The model `gpt-test` does not exist", Code: "model_not_found"},
			want{code: hark.EINVALID, msg: `has no chat completions endpoint at https://llm.example/v1/chat/completions or no model "gpt-test" (404 Not Found: The model ` + "`gpt-test`" + ` does not exist): check HARK_LLM_BASE_URL and HARK_LLM_MODEL`,
				status: 404, apiCode: "model_not_found"}},
		{"bad parameter", &openai.APIError{HTTPStatusCode: 400, Message: "Invalid language 'eng'", Param: &param, Code: "invalid_value"},
			want{msg: "400 Bad Request: Invalid language 'eng'", status: 400, param: "language", apiCode: "invalid_value"}},
		{"too large", &openai.RequestError{HTTPStatusCode: 413, Body: []byte("Request Entity Too Large")},
			want{msg: "413 Request Entity Too Large: Request Entity Too Large", status: 413}},
		{"numeric code", &openai.APIError{HTTPStatusCode: 400, Message: "This model's maximum context length is 8192 tokens", Code: 400},
			want{msg: "maximum context length", status: 400, apiCode: "400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkClassify(t, e, tt.err, tt.want) })
	}
}

// TestClassifyResponses sends chat completions through go-openai to
// servers that answer as OpenAI, vLLM, proxies and broken servers do, and
// classifies what comes back, with the wait the answer asked for.
func TestClassifyResponses(t *testing.T) {
	apiError := `{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":%q}}`
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		delay  time.Duration
		wait   time.Duration
		want   want
	}{
		{"rate limited", 429, http.Header{"Retry-After": {"2"}}, fmt.Sprintf(apiError, "Rate limit reached for requests", "rate_limit_exceeded"), 0, 2 * time.Second,
			want{again: true, msg: "429 Too Many Requests: Rate limit reached", status: 429, apiCode: "rate_limit_exceeded"}},
		{"overloaded, in milliseconds", 503, http.Header{"Retry-After-Ms": {"1500"}}, `{"error":{"message":"The server is overloaded or not ready yet.","type":"server_error"}}`, 0, 1500 * time.Millisecond,
			want{again: true, msg: "503 Service Unavailable: The server is overloaded", status: 503}},
		{"proxy page", 502, nil, "<html><body>502 Bad Gateway</body></html>", 0, 0,
			want{again: true, msg: "502 Bad Gateway: <html><body>502 Bad Gateway</body></html>", status: 502}},
		{"slow", 200, nil, `{}`, time.Second, 0, want{again: true, msg: "no answer within 100ms"}},
		{"not OpenAI", 200, nil, "Hello from a web server", 0, 0, want{again: true, invalid: true, msg: "is the server OpenAI-compatible?"}},
		{"wrong key", 401, nil, fmt.Sprintf(apiError, "Incorrect API key provided: sk-wr***ng.", "invalid_api_key"), 0, 0,
			want{code: hark.EINVALID, msg: "check HARK_LLM_API_KEY or HARK_LLM_API_KEY_FILE", status: 401, apiCode: "invalid_api_key"}},
		{"no such endpoint", 404, nil, "404 page not found", 0, 0,
			want{code: hark.EINVALID, msg: "/v1/chat/completions or no model \"gpt-test\" (404 Not Found: 404 page not found): check HARK_LLM_BASE_URL", status: 404}},
		{"vLLM refusal", 400, nil, `{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}`, 0, 0,
			want{msg: "400 Bad Request: {\"object\":\"error\",\"message\":\"This model", status: 400}},
		{"too large", 413, nil, "<html><head><title>413 Request Entity Too Large</title></head></html>", 0, 0,
			want{msg: "413 Request Entity Too Large: <html>", status: 413}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // then a client that gives up cancels r's context
				select {
				case <-time.After(tt.delay):
				case <-r.Context().Done():
					return
				}
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			e := testEndpoint(srv.URL + "/v1")
			e.Timeout, e.Quote = 100*time.Millisecond, 300
			wait, err := chat(e, srv.Client())
			if wait != tt.wait {
				t.Errorf("the answer asked for a wait of %v, want %v", wait, tt.wait)
			}
			checkClassify(t, e, err, tt.want)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		e := testEndpoint(srv.URL + "/v1")
		_, err := chat(e, http.DefaultClient)
		checkClassify(t, e, err, want{again: true, msg: "network error"})
	})
}

// chat sends a chat completion to e's server through a Doer, as the LLM
// tagger does, and returns the wait the answer asked for and the error.
func chat(e Endpoint, client *http.Client) (time.Duration, error) {
	cc := openai.DefaultConfig("sk-test")
	cc.BaseURL, cc.HTTPClient = e.BaseURL, Doer{Client: client}
	ctx, slot := WithSlot(context.Background())
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	_, err := openai.NewClientWithConfig(cc).CreateChatCompletion(ctx, openai.ChatCompletionRequest{Model: e.Model,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: "Code this turn."}}})
	return slot.Wait, err
}
