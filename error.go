package hark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Error codes: a small set of kinds that the web layer maps to HTTP status
// codes and the CLI to messages a person can act on.
const (
	EINVALID     = "invalid"     // the input is wrong; retrying it unchanged will fail again
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	ECONFLICT    = "conflict"    // the change conflicts with the current state
	EUNAVAILABLE = "unavailable" // a dependency is down; retrying later may succeed
	EINTERNAL    = "internal"    // a bug or an unexpected condition
)

// Error is a domain error: a code from the list above and a message written
// for the person who will read it. Err, when set, is the underlying cause,
// kept for logs and errors.Is.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message, with the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an Error with the given code and message whose cause is err.
func WrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns what a person reads when something fails: the
// message of the first Error in err's chain with its cause, or, for any
// other error, "internal error: " and its text. The standard library's bare
// sentinels in a cause (io.EOF, io.ErrUnexpectedEOF, a context cancelled or
// past its deadline) are put in words, so that a user never reads a lone
// "EOF".
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Err == nil {
			return e.Message
		}
		return e.Message + ": " + causeText(e.Err)
	}
	return "internal error: " + causeText(err)
}

// sentinelWords are the standard library's sentinel errors, in words.
var sentinelWords = []struct {
	err   error
	words string
}{
	{io.ErrUnexpectedEOF, "the data ended before it was complete (a cut-off file or a dropped connection)"},
	{io.EOF, "the data ended early (an empty or cut-off file, or a closed connection)"},
	{context.DeadlineExceeded, "it took too long and was stopped"},
	{context.Canceled, "it was stopped"},
}

// causeText is err's text with a trailing sentinel put in words.
func causeText(err error) string {
	s := err.Error()
	for _, w := range sentinelWords {
		if errors.Is(err, w.err) {
			if text := w.err.Error(); strings.HasSuffix(s, text) {
				return strings.TrimSuffix(s, text) + w.words
			}
		}
	}
	return s
}

// IsTemporary reports whether err is worth retrying later: a dependency was
// unavailable.
func IsTemporary(err error) bool {
	return ErrorCode(err) == EUNAVAILABLE
}
