package apps

import "testing"

func TestValidAppsDomain(t *testing.T) {
	for _, d := range []string{"apps", "-a.b", "a..b", "a_b.c", "a.b-"} {
		if err := validAppsDomain(d); err == nil {
			t.Errorf("domain %q accepted", d)
		}
	}
	for _, d := range []string{"", "apps.example.com", "a.b"} {
		if err := validAppsDomain(d); err != nil {
			t.Errorf("domain %q refused: %v", d, err)
		}
	}
}
