package apitypes

import "time"

// Browser sign-in (docs/design.md, "Browser sign-in and app isolation").
const (
	// SignInPath: POST with "Authorization: Bearer <API token>" or a
	// SignInRequest holding a one-time code sets the session cookie.
	SignInPath = "/api/v1/signin"
	// SignOutPath: POST clears the session cookie.
	SignOutPath = "/api/v1/signout"
	// SignInCodesPath: POST with a bearer token makes a one-time code and
	// the link that signs a browser in with it (`wsgate web`).
	SignInCodesPath = "/api/v1/signin/codes"
	// AppCodePath: POST an AppCodeRequest, signed in, for the link that
	// signs the browser in to one app host.
	AppCodePath = "/api/v1/signin/app-code"
	// SignInPage is the page that redeems a code from its URL fragment
	// ("#code=…") and runs the app sign-in ("?app=HOST&state=…").
	SignInPage = "/signin"
)

// CSRFHeader must be on every API request a session cookie authenticates
// (any value): no other origin can send it without a CORS preflight, which
// the gateway never grants.
const CSRFHeader = "X-Wsgate-Csrf"

// SignInRequest redeems a one-time code from SignInCodesPath.
type SignInRequest struct {
	Code string `json:"code"`
}

// SignInResponse says who is signed in and until when.
type SignInResponse struct {
	User      string    `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SignInCode is the answer of SignInCodesPath.
type SignInCode struct {
	Code      string    `json:"code"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AppCodeRequest asks for a sign-in to one app host: Host as the browser
// sent it (with the port), State the app host's state.
type AppCodeRequest struct {
	Host  string `json:"host"`
	State string `json:"state"`
}

// AppCodeResponse is where to send the browser: the app host's callback
// with a one-time code.
type AppCodeResponse struct {
	Redirect string `json:"redirect"`
}
