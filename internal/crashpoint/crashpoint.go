// Package crashpoint stops the process at named points of a save or a refresh, in test builds
// only (go build -tags crashpoints): PLEOAUTH_CRASH_AT names the point where it kills itself,
// PLEOAUTH_STOP_AT the point where it stops itself (SIGSTOP, until a SIGCONT), so that tests can
// prove what holds at each point instead of signalling at random moments. In other builds
// [Hit] does nothing.
package crashpoint

// The points, in the order a refresh passes them.
const (
	// LockHeld: the refresh lock is held; nothing is sent yet.
	LockHeld = "lock-held"
	// SpentRecorded: the store records the refresh token as spent; nothing is sent yet.
	SpentRecorded = "spent-recorded"
	// RefreshAnswered: the server answered a refresh (and rotated the refresh token); nothing
	// is saved yet.
	RefreshAnswered = "refresh-answered"
	// Journalled: the answer is in this machine's journal, synced; the store is not written.
	Journalled = "journalled"
	// TempWritten: the new bundle is written to a temporary file, not yet synced.
	TempWritten = "temp-written"
	// BeforeRename: the temporary file is synced and closed, not yet renamed into place.
	//
	// Every private write passes TempWritten and BeforeRename: in a refresh, the spend record
	// (1), the journal entry (2) and the answer's save (3). "temp-written@3" names the third.
	BeforeRename = "before-rename"
)
