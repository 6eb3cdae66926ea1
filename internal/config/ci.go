package config

import "strings"

// IsCI reports whether the process runs in a CI job, by the CI variable that GitHub Actions,
// GitLab CI and most other runners set: "true", "1" or "yes" in any case. A CI job has nobody
// to type a secret or log in in a browser.
func IsCI(getenv func(string) string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv("CI"))) {
	case "true", "1", "yes":
		return true
	}
	return false
}
