package store

import (
	"strings"
	"testing"
)

// TestLoginNames: a login's name becomes a file name, a keychain account and a Redis key, so
// only an environment's name (1-64 of a-z, 0-9, '.', '_', '-', not starting with '.', '-' or
// '_') and, for a profile, "@" and 1-64 of a-z, 0-9, '_', '-' are taken — every bound of every
// range included, and nothing one past it.
func TestLoginNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"z", true},
		{"0", true},
		{"9", true},
		{"a0.z9_x-y", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"`", false}, // one before 'a'
		{"{", false}, // one after 'z'
		{"/", false}, // one before '0'
		{":", false}, // one after '9'
		{"A", false},
		{".a", false},
		{"-a", false},
		{"_a", false},
		{"a/b", false},
		{"local@a", true},
		{"local@z", true},
		{"local@0", true},
		{"local@9", true},
		{"local@_a-0", true},
		{"local@" + strings.Repeat("p", 64), true},
		{"local@" + strings.Repeat("p", 65), false},
		{"local@", false},
		{"@acme", false},
		{"local@`", false},
		{"local@{", false},
		{"local@/", false},
		{"local@:", false},
		{"local@a.b", false}, // a dot is for environments only
		{"local@A", false},
		{"local@a@b", false},
		{"local@ok/..", false},
	}
	for _, tt := range tests {
		err := checkEnvName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("checkEnvName(%q) = %v; want accepted: %v", tt.name, err, tt.ok)
		}
		// Every store refuses what the check refuses, before it touches anything.
		if !tt.ok {
			if err := (File{Dir: t.TempDir()}).Save(tt.name, &Bundle{AccessToken: "a"}); err == nil {
				t.Errorf("File.Save(%q) = nil; want the name refused", tt.name)
			}
		}
	}
}
