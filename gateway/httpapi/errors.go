package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// httpError is an error with the status and body the client should get.
type httpError struct {
	status int
	body   apitypes.Error
}

func (e *httpError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.body.Message) }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, body: apitypes.Error{Message: fmt.Sprintf(format, args...)}}
}

// invalid is a 400 naming the bad fields; the message joins their details
// so that a client printing only the message still names every item.
func invalid(vs ...apitypes.Validation) *httpError {
	details := make([]string, len(vs))
	for i, v := range vs {
		details[i] = v.Detail
	}
	return &httpError{status: http.StatusBadRequest, body: apitypes.Error{
		Message:     strings.Join(details, "; "),
		Validations: vs,
	}}
}

func invalidField(field, format string, args ...any) *httpError {
	return invalid(apitypes.Validation{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// errUnauthorized is the one answer for every authentication failure, so a
// client cannot tell a wrong token from a suspended user's.
var errUnauthorized = errorf(http.StatusUnauthorized, "unauthorized: missing, invalid or expired API token")

// errSuspended answers a valid token of a suspended user (auth.go).
var errSuspended = errorf(http.StatusUnauthorized, "unauthorized: your account is suspended; ask a site admin to unsuspend it")

// writeError maps err to a status and the JSON error body. Store errors map
// by type: not found 404, conflict 409, invalid 400; anything else is a 500
// whose detail stays in the log.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		he  *httpError
		nf  *acl.NotFoundError
		cf  *acl.ConflictError
		inv *acl.InvalidError
		mb  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mb):
		he = errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", mb.Limit)
	case errors.As(err, &nf):
		he = errorf(http.StatusNotFound, "%s", nf.Error())
	case errors.As(err, &cf):
		he = errorf(http.StatusConflict, "%s", cf.Error())
	case errors.As(err, &inv):
		he = invalidField(inv.Field, "%s", inv.Detail)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		return
	default:
		a.log.ErrorContext(r.Context(), "api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		he = errorf(http.StatusInternalServerError, "internal server error")
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
	}
	writeJSON(w, he.status, he.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// The body is written already; a failed write means the client left.
	_ = enc.Encode(v)
}
