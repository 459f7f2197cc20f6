package control

import (
	"encoding/json"
	"fmt"
	"io"
)

// ReadRequest reads one request from r, at most MaxRequestBytes of it.
// Unknown fields are refused, so that an agent older than the gateway says
// so instead of ignoring what it does not understand. It does not check
// the op: that is the server's dispatch.
func ReadRequest(r io.Reader) (Request, error) {
	var req Request
	dec := json.NewDecoder(io.LimitReader(r, MaxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Request{}, fmt.Errorf("bad control request: %w", err)
	}
	return req, nil
}

// WriteResponse writes resp to w as one JSON line, in one Write.
func WriteResponse(w io.Writer, resp Response) error {
	b, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode control answer: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send control answer: %w", err)
	}
	return nil
}
