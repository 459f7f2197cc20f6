package apitypes

// ShareCandidatesPath is GET .../share-candidates?prefix=P under a
// workspace: the users and groups whose names start with P that the
// caller may pick to share the workspace with (the web page's type-ahead).
const ShareCandidatesPath = "/share-candidates"

// Bounds of a share-candidates search.
const (
	// ShareCandidatesMinPrefix is the shortest prefix searched.
	ShareCandidatesMinPrefix = 2
	// ShareCandidatesLimit caps users and groups together.
	ShareCandidatesLimit = 10
)

// ShareCandidates is the answer of GET .../share-candidates.
type ShareCandidates struct {
	Users  []ShareCandidate `json:"users"`
	Groups []ShareCandidate `json:"groups"`
	// Truncated says more names matched than the limit.
	Truncated bool `json:"truncated,omitempty"`
}

// ShareCandidate is one user or group a workspace may be shared with.
type ShareCandidate struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
}
