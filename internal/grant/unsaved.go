package grant

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
)

// UnsavedError is a spend another process recorded whose answer is not in the store: the
// token it spent is never sent again, so the login waits for that process's machine.
type UnsavedError struct {
	Login string
	Spend store.Spend
	// Lost is set when the answer will never come: the process that sent it on this machine
	// is gone, or unsaved_timeout has passed.
	Lost    bool
	Timeout time.Duration
}

func (e *UnsavedError) Error() string {
	s := e.Spend
	what := map[string]string{store.SpendCode: "a login", store.SpendImport: "an import"}[s.Grant]
	if what == "" {
		what = "a refresh"
	}
	// The host name comes from the store, which other machines write: cleaned to one line.
	where := fmt.Sprintf("%s (pid %d, at %s)", sanitize.Line(s.Host, 64), s.PID, s.At.UTC().Format(time.RFC3339))
	if e.Lost {
		return fmt.Sprintf("%s started on %s was never saved, and what it spent cannot be sent again", what, where)
	}
	return fmt.Sprintf("env %s: %s started on %s has not been saved yet; it will be saved when that machine runs pleoauth again (after unsaved_timeout, %s, the login must be renewed); nothing was sent",
		e.Login, what, where, e.Timeout)
}

// unsaved explains a spend found without its answer, and sends nothing: temporary while the
// process that spent may still save its answer, login required once it cannot.
func (g *Grant) unsaved(s *store.Spend) error {
	timeout := g.cfg.UnsavedTimeout
	if timeout <= 0 {
		timeout = config.DefaultUnsavedTimeout
	}
	e := &UnsavedError{Login: g.Name, Spend: *s, Timeout: timeout}
	host, pid := g.self()
	here := s.Host == host && g.isHome(s.Home)
	// On this machine, with the lock held and the journal finished: the process that spent is
	// this one, or gone, or it would have saved its answer or kept it in the journal.
	e.Lost = s.Lost || here && (s.PID == pid || !processAlive(s.PID)) || g.d.Now().Sub(s.At) > timeout
	if e.Lost {
		return failure.NeedLogin(g.Name, e.Error(), nil)
	}
	return failure.Wrap(failure.Temporary, e)
}

// isHome tells whether home, as a spend recorded it, is this run's PLEOAUTH_HOME: the same path,
// or another path to the same folder (a symbolic link), whose journal is this one.
func (g *Grant) isHome(home string) bool {
	if home == g.cfg.Home {
		return true
	}
	real, err := filepath.EvalSymlinks(home)
	return err == nil && real == g.keychainScope()
}
