package acl

import (
	"strings"
	"testing"
)

func TestValidateUID(t *testing.T) {
	for _, ok := range []string{NewID(), "a", "ws_01HZX-9.k~", strings.Repeat("x", MaxUIDLen)} {
		if err := ValidateUID(ok); err != nil {
			t.Errorf("ValidateUID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "tab\there", "nl\n", "\x7f", "é", strings.Repeat("x", MaxUIDLen+1)} {
		if err := ValidateUID(bad); err == nil {
			t.Errorf("ValidateUID(%q) accepted", bad)
		}
	}
}
