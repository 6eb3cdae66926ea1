//go:build !crashpoints || !unix

package crashpoint

// Hit does nothing outside test builds.
func Hit(string) {}
