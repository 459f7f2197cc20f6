package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// ErrNoAnswer is returned (wrapped) by Ask when the agent closed the stream
// without a word, as agents older than the control stream do.
var ErrNoAnswer = errors.New("the agent did not answer (is it older than this gateway?)")

// ErrAnswerTooLarge is returned (wrapped) by Ask when the answer exceeds
// MaxResponseBytes.
var ErrAnswerTooLarge = fmt.Errorf("answer larger than %d bytes", MaxResponseBytes)

// RefusedError is the agent's own refusal: a Response with Error set.
type RefusedError struct {
	Op     string
	Reason string // Response.Error
}

func (e *RefusedError) Error() string { return fmt.Sprintf("agent refused %s: %s", e.Op, e.Reason) }

// Ask sends req on conn, an open control stream, and reads the agent's
// whole answer. The caller opened conn and closes it; Ask only sets its
// deadline, to abort when ctx ends (the error then wraps ctx's).
func Ask(ctx context.Context, conn net.Conn, req Request) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, fmt.Errorf("%s: %w", req.Op, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(format string, err error) (Response, error) {
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return Response{}, fmt.Errorf(format, req.Op, err)
	}

	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("encode %s request: %w", req.Op, err)
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fail("send %s request: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(conn, MaxResponseBytes+1))
	if err != nil {
		return fail("read %s answer: %w", err)
	}
	switch {
	case len(data) > MaxResponseBytes:
		return Response{}, fmt.Errorf("%s: %w", req.Op, ErrAnswerTooLarge)
	case len(data) == 0:
		return Response{}, fmt.Errorf("%s: %w", req.Op, ErrNoAnswer)
	}
	var resp Response
	if err := json.Unmarshal(data, &resp); err != nil {
		return Response{}, fmt.Errorf("decode %s answer: %w", req.Op, err)
	}
	if resp.Error != "" {
		return Response{}, &RefusedError{Op: req.Op, Reason: resp.Error}
	}
	return resp, nil
}
