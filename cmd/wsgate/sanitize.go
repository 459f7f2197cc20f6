package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sanitize makes text the CLI did not write (names, messages and log lines
// from the server or an agent) safe to print on one line of a terminal:
// control characters (C0, DEL, C1: escape sequences start with them) and
// the Unicode bidirectional overrides, which can make text read as
// something else, are dropped; tabs and newlines become spaces; invalid
// UTF-8 becomes U+FFFD.
func sanitize(s string) string { return clean(s, false) }

// sanitizeText is sanitize for multi-line text: newlines and tabs stay.
func sanitizeText(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	if isClean(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case unsafeRune(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isClean(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			return false
		case r == '\n' || r == '\t':
			if !multiline {
				return false
			}
		case unsafeRune(r):
			return false
		}
	}
	return true
}

// unsafeRune: control characters, and the bidirectional embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}
