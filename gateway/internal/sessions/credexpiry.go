package sessions

import "time"

// CredentialExpired returns the live sessions whose credential (API token,
// SSH certificate) has expired by now and that are not being dropped yet.
func (r *Registry) CredentialExpired(now time.Time) []*Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Session
	for _, s := range r.byID {
		if e := s.Info.Expires; !e.IsZero() && !now.Before(e) && !s.Dropping() {
			out = append(out, s)
		}
	}
	return out
}

// CredentialExpiredMessage is what a session whose credential expired is
// told, without the "wsgate: " prefix.
func CredentialExpiredMessage(i Info) string {
	switch {
	case i.TokenID != "":
		return "your API token expired"
	case i.Cert:
		return "your SSH certificate expired"
	}
	return "your credential expired"
}
