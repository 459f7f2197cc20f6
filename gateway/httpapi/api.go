package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// api holds the handlers' shared state.
type api struct {
	cfg   Config
	store acl.Store
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
	// locks serializes lifecycle transitions of one workspace on this
	// replica.
	locks keyedMutex
	// proofs issues and checks key-proof challenges (keyproof.go).
	proofs *keyProofs
}

// handlerFunc is an authenticated handler; a returned error becomes the
// JSON error answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request, caller acl.User) error

// New returns the handler for everything under /api/v1/ except the agent
// tunnel endpoint, which the server mounts separately.
func New(cfg Config) (http.Handler, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &api{cfg: cfg, store: cfg.Store, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	a.proofs = &keyProofs{store: cfg.Store, now: cfg.Now}
	a.routes()
	return a, nil
}

func (a *api) routes() {
	// Users.
	a.handle("POST /api/v1/users", a.createUser)
	a.handle("GET /api/v1/users", a.listUsers)
	a.handle("GET /api/v1/users/{user}", a.getUser)
	a.handle("PATCH /api/v1/users/{user}", a.updateUser)
	a.handle("DELETE /api/v1/users/{user}", a.deleteUser)
	a.handle("POST /api/v1/users/{user}/suspend", a.suspendUser(true))
	a.handle("POST /api/v1/users/{user}/unsuspend", a.suspendUser(false))
	a.handle("GET /api/v1/users/{user}/keys", a.listKeys)
	a.handle("POST /api/v1/users/{user}/keys", a.addKey)
	a.handle("POST /api/v1/users/{user}/keys/challenge", a.keyChallenge)
	// Fingerprints ("SHA256:ab/c+d") may hold slashes.
	a.handle("DELETE /api/v1/users/{user}/keys/{fingerprint...}", a.removeKey)
	a.handle("GET /api/v1/users/{user}/tokens", a.listTokens)
	a.handle("POST /api/v1/users/{user}/tokens", a.createToken)
	a.handle("DELETE /api/v1/users/{user}/tokens/{id}", a.revokeToken)

	// Groups.
	a.handle("POST /api/v1/groups", a.createGroup)
	a.handle("GET /api/v1/groups", a.listGroups)
	a.handle("GET /api/v1/groups/{group}", a.getGroup)
	a.handle("DELETE /api/v1/groups/{group}", a.deleteGroup)
	a.handle("POST /api/v1/groups/{group}/members", a.addMember)
	a.handle("DELETE /api/v1/groups/{group}/members/{user}", a.removeMember)

	// Orgs and settings.
	a.handle("POST /api/v1/orgs", a.createOrg)
	a.handle("GET /api/v1/orgs", a.listOrgs)
	a.handle("GET /api/v1/orgs/{org}", a.getOrg)
	a.handle("GET /api/v1/orgs/{org}/settings", a.getOrgSettings)
	a.handle("PATCH /api/v1/orgs/{org}/settings", a.setOrgSettings)
	a.handle("GET /api/v1/settings", a.getSettings)
	a.handle("PATCH /api/v1/settings", a.setSettings)
	a.handle("GET /api/v1/deployment", a.getDeployment)
	a.mux.HandleFunc("GET /api/v1/info", a.getInfo)

	// Workspaces.
	a.handle("POST /api/v1/workspaces", a.createWorkspace)
	a.handle("GET /api/v1/workspaces", a.listWorkspaces)
	a.handle("GET /api/v1/workspaces/{owner}/{name}", a.getWorkspace)
	a.handle("PATCH /api/v1/workspaces/{owner}/{name}", a.renameWorkspace)
	a.handle("DELETE /api/v1/workspaces/{owner}/{name}", a.deleteWorkspace)
	a.handle("POST /api/v1/workspaces/{owner}/{name}/start", a.startWorkspace)
	a.handle("POST /api/v1/workspaces/{owner}/{name}/stop", a.stopWorkspace)
	a.handle("POST /api/v1/workspaces/{owner}/{name}/update", a.updateWorkspace)
	a.handle("POST /api/v1/workspaces/{owner}/{name}/agent-token", a.rotateAgentToken)
	a.handle("POST /api/v1/workspaces/{owner}/{name}/transfer", a.transferWorkspace)
	a.handle("PUT /api/v1/workspaces/{owner}/{name}/update-required", a.setUpdateRequired)
	a.handle("GET /api/v1/workspaces/{owner}/{name}/settings", a.getWorkspaceSettings)
	a.handle("PUT /api/v1/workspaces/{owner}/{name}/settings", a.setWorkspaceSettings(false))
	a.handle("PATCH /api/v1/workspaces/{owner}/{name}/settings", a.setWorkspaceSettings(true))

	// Agent stats and logs, who is connected (agentinfo.go).
	a.handle("GET /api/v1/workspaces/{owner}/{name}/stats", a.getStats)
	a.handle("GET /api/v1/workspaces/{owner}/{name}/logs", a.getLogs)
	a.handle("GET /api/v1/workspaces/{owner}/{name}/connections", a.getConnections)

	// Sharing.
	a.handle("GET /api/v1/workspaces/{owner}/{name}/acl", a.getACL)
	a.handle("PATCH /api/v1/workspaces/{owner}/{name}/acl", a.patchACL)
	a.handle("DELETE /api/v1/workspaces/{owner}/{name}/acl", a.deleteACL)
	a.handle("GET /api/v1/workspaces/{owner}/{name}"+apitypes.ShareCandidatesPath, a.getShareCandidates)

	// Browser sign-in (signin.go).
	a.signinRoutes()
	// Revoked SSH certificates and keys (certs.go).
	a.handle("GET "+apitypes.RevokedCertsPath, a.listRevokedCerts)
	a.handle("POST "+apitypes.RevokedCertsPath, a.revokeCert)
}

// handle registers an authenticated handler.
func (a *api) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		caller, err := a.authenticate(r)
		if err == nil {
			// Writes made for this request name the caller in their
			// events ("stopped by alice").
			r = r.WithContext(acl.WithActor(r.Context(), caller.Name))
			err = h(w, r, caller)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	})
}

// ServeHTTP routes the request; paths and methods the API does not know get
// the same JSON error body as every other failure.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		// The mux itself sets the path wildcards; Handler does not.
		a.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404, 405 and a redirect, but replace its
	// text body.
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		writeJSON(w, rec.status, apitypes.Error{Message: "no such API endpoint: " + r.Method + " " + r.URL.Path})
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeJSON(w, rec.status, apitypes.Error{Message: "method " + r.Method + " not allowed on " + r.URL.Path})
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		writeJSON(w, rec.status, apitypes.Error{Message: http.StatusText(rec.status)})
	}
}

// statusRecorder keeps the status and headers of the mux's fallback handler
// and drops its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
