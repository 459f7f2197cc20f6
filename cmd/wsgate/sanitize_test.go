package main

import "testing"

func TestSanitize(t *testing.T) {
	for _, c := range []struct{ in, line, text string }{
		{"plain ünïcode", "plain ünïcode", "plain ünïcode"},
		{"\x1b[31mred\x1b[0m", "[31mred[0m", "[31mred[0m"},
		{"title\x1b]0;pwned\x07", "title]0;pwned", "title]0;pwned"},
		{"a\tb\nc\r", "a b c", "a\tb\nc"},
		{"c1 \u009b31m", "c1 31m", "c1 31m"},
		{"del\x7f nul\x00", "del nul", "del nul"},
		{"bidi \u202eevil\u2066", "bidi evil", "bidi evil"},
		{"bad \xff utf8", "bad \ufffd utf8", "bad \ufffd utf8"},
	} {
		if got := sanitize(c.in); got != c.line {
			t.Errorf("sanitize(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := sanitizeText(c.in); got != c.text {
			t.Errorf("sanitizeText(%q) = %q, want %q", c.in, got, c.text)
		}
	}
}
