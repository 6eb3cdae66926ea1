//go:build !linux

package loopback

// holder names the process listening on addr where the system tells; here it does not without
// privileges or external tools, so the message names the address alone.
func holder(addr string) string { return "" }
