// Package webui serves the sharing page: static HTML, JavaScript and CSS
// embedded in the binary, talking to the JSON API under /api/v1/ with a
// signed-in session cookie. There is no build step.
package webui

import (
	"bytes"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// StaticPrefix is where the page's scripts and styles are served.
const StaticPrefix = "/static/"

// SignInPage serves the page too: it redeems a `wsgate web` code from its
// fragment and finishes an app's sign-in (apitypes.SignInPage).
const SignInPage = "/signin"

// WorkspacePrefix is where a workspace's view is served, deep-linkable:
// /workspaces/OWNER/NAME is the page, which shows that workspace.
const WorkspacePrefix = "/workspaces/"

// isWorkspacePath reports whether p is /workspaces/OWNER/NAME with two
// non-empty segments (the page checks the names with the API).
func isWorkspacePath(p string) bool {
	rest, ok := strings.CutPrefix(p, WorkspacePrefix)
	if !ok {
		return false
	}
	owner, name, ok := strings.Cut(rest, "/")
	return ok && owner != "" && name != "" && !strings.Contains(name, "/")
}

// securityHeaders go on every answer. The page runs only its own script and
// style files (no inline code, so an injected string cannot execute), calls
// only its own origin, and may not be framed.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

// Handler serves GET and HEAD of /, /signin and /workspaces/OWNER/NAME (the
// page) and /static/<file>; every
// other path is 404 and every other method 405.
func Handler() http.Handler { return handler{} }

type handler struct{}

func (handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	var name string
	switch p := r.URL.Path; {
	case p == "/" || p == SignInPage || isWorkspacePath(p):
		name = "index.html"
	case strings.HasPrefix(p, StaticPrefix) && p != StaticPrefix:
		name = strings.TrimPrefix(p, StaticPrefix)
		// index.html is the page at "/", not a static file.
		if name == "index.html" || path.Clean("/"+name) != "/"+name {
			name = ""
		}
	}
	if name == "" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := fs.ReadFile(static, "static/"+name)
	if err != nil {
		// Missing files and directories alike.
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	// The files change with the binary; revalidating is cheap.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}
