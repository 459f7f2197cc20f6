package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// decode reads one JSON value into v: at most MaxBodyBytes, no unknown
// fields, nothing after the value.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, apitypes.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// Reading to the end both rejects trailing values and makes an
	// oversize body fail even when its first value was short.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return decodeError(err)
	default:
		return errorf(http.StatusBadRequest, "request body holds more than one JSON value")
	}
}

func decodeError(err error) error {
	var (
		mb  *http.MaxBytesError
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mb):
		return err
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "request body is empty: expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid JSON: unexpected end of body")
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, "invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalidField(field, "%s: expected %s, got JSON %s", field, typ.Type, typ.Value)
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return invalidField(name, "unknown field %q", name)
	}
	return errorf(http.StatusBadRequest, "invalid JSON: %v", err)
}
