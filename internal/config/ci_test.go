package config

import "testing"

func TestIsCI(t *testing.T) {
	for v, want := range map[string]bool{
		"true": true, "1": true, "yes": true, "TRUE": true, "Yes": true,
		"": false, "0": false, "false": false, "no": false,
	} {
		if got := IsCI(func(string) string { return v }); got != want {
			t.Errorf("IsCI with CI=%q = %v; want %v", v, got, want)
		}
	}
}
