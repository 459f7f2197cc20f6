package apitypes

import (
	"encoding/json"
	"net/http"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Error is the body of every error response.
type Error struct {
	Message     string       `json:"message"`
	Validations []Validation `json:"validations,omitempty"`
}

// Validation names one bad input field.
type Validation struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// WriteError answers with status and the error body, for the gateway's
// HTTP entry points outside the API (SSH over HTTPS, app sign-in), so that
// clients read every refusal the same way.
func WriteError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Error{Message: msg})
}
