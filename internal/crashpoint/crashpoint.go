// Package crashpoint stops the process at named points of a save or a refresh, in test builds
// only (go build -tags crashpoints, with PLEOAUTH_CRASH_AT naming the point), so that tests can
// prove what holds after a crash at each point instead of killing at random moments. In other
// builds [Hit] does nothing.
package crashpoint

// The points, in the order a refresh passes them.
const (
	// RefreshAnswered: the server answered a refresh (and rotated the refresh token); nothing
	// is saved yet.
	RefreshAnswered = "refresh-answered"
	// TempWritten: the new bundle is written to a temporary file, not yet synced.
	TempWritten = "temp-written"
	// BeforeRename: the temporary file is synced and closed, not yet renamed into place.
	BeforeRename = "before-rename"
)
