package apitypes

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
