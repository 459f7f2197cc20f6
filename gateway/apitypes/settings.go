package apitypes

import "time"

// Sharing setting values, for orgs and the deployment.
const (
	SharingEnabled  = "enabled"
	SharingDisabled = "disabled"
)

// Org is an organization and its sharing setting.
type Org struct {
	Name      string    `json:"name"`
	Sharing   string    `json:"sharing"` // SharingEnabled or SharingDisabled
	CreatedAt time.Time `json:"created_at"`
}

// CreateOrgRequest is the body of POST /api/v1/orgs.
type CreateOrgRequest struct {
	Name    string `json:"name"`
	Sharing string `json:"sharing,omitempty"` // default enabled
}

// SharingSetting is the body of PATCH /api/v1/orgs/{name}/settings and
// PATCH /api/v1/settings.
type SharingSetting struct {
	Sharing string `json:"sharing"`
}

// Settings are the deployment-wide settings.
type Settings struct {
	// Sharing is the effective deployment setting.
	Sharing string `json:"sharing"`
	// DisabledByServer is true when the server runs with --disable-sharing,
	// which overrides the stored setting.
	DisabledByServer bool `json:"disabled_by_server"`
}
