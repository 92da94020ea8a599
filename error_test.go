package hark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{Errorf(EINVALID, "meeting.wav is not a WAV file"), "meeting.wav is not a WAV file"},
		{WrapError(EUNAVAILABLE, errors.New("connection refused"), "reach the store"), "reach the store: connection refused"},
		{WrapError(EINVALID, io.EOF, "read meeting.wav"), "read meeting.wav: the data ended early (an empty or cut-off file, or a closed connection)"},
		{WrapError(EINVALID, fmt.Errorf("header: %w", io.ErrUnexpectedEOF), "read meeting.wav"),
			"read meeting.wav: header: the data ended before it was complete (a cut-off file or a dropped connection)"},
		{fmt.Errorf("upload: %w", WrapError(EUNAVAILABLE, context.DeadlineExceeded, "publish the event")), "publish the event: it took too long and was stopped"},
		{io.EOF, "internal error: the data ended early (an empty or cut-off file, or a closed connection)"},
		{context.Canceled, "internal error: it was stopped"},
		{errors.New("boom"), "internal error: boom"},
		// A sentinel in the middle of a text is left as it is.
		{WrapError(EINVALID, fmt.Errorf("%w after 3 bytes, then more", io.EOF), "read"), "read: EOF after 3 bytes, then more"},
	} {
		if got := ErrorMessage(tt.err); got != tt.want {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
