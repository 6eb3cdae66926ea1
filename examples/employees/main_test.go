package main

import "testing"

// TestPrintable: what the API sends reaches the terminal with no control character, bidi
// control or broken UTF-8 left in it; ordinary text, accents included, stays as it came.
func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ada Lovelace", "Ada Lovelace"},
		{"Søren Ærø", "Søren Ærø"},
		{"503 \x1b]0;owned\x07\x1b[2JFAKE", "503 �]0;owned��[2JFAKE"},
		{"line\nforged", "line�forged"},
		{"abc\u202edef", "abc�def"},
		{"\x9b31m", "�31m"},
		{"bad \xff byte", "bad � byte"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
