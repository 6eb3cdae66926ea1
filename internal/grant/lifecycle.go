package grant

import (
	"context"
	"errors"
	"fmt"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/sanitize"
	"github.com/pleoauth/pleoauth/internal/store"
)

// RecordSubject keeps whose login this is (a Pleo company or organisation) in the stored
// bundle, so that status shows it without asking the API. Only a Pleo subject URN
// (urn:pleo:<kind>:<uuid>) is kept: the subject comes from the server, and anything else —
// an escape sequence, a newline, a page of text — is refused with [ErrNotSubject] rather than
// stored and printed by every status after.
func (g *Grant) RecordSubject(ctx context.Context, subject string) error {
	if !sanitize.IsSubjectURN(subject) {
		return fmt.Errorf("env %s: %w: \"%s\"", g.Name, ErrNotSubject, sanitize.Text(subject, 80))
	}
	unlock, err := g.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := g.store.Load(g.Name)
	if err != nil {
		return fmt.Errorf("env %s: %w", g.Name, err)
	}
	b.Subject = subject
	return g.store.Save(g.Name, b)
}

// ErrNotSubject means a subject is not a Pleo subject URN, so it was not recorded.
var ErrNotSubject = errors.New("not a Pleo subject URN (urn:pleo:<kind>:<uuid>), so not recorded")

// OtherKeyError means the login in the store is sealed under another store key than this
// machine's PLEOAUTH_STORE_KEY: it is not unreadable, it belongs to machines with that key, and
// replacing it locks all of them out.
type OtherKeyError struct {
	Login     string
	Have, Got string
}

func (e *OtherKeyError) Error() string {
	return fmt.Sprintf("env %s: the login in Redis is sealed under store key %s, and this machine's PLEOAUTH_STORE_KEY is key %s; set the key the fleet shares, or add --force to replace that login (the machines with key %s then no longer open it)",
		e.Login, e.Have, e.Got, e.Have)
}

// otherKey turns a bundle sealed under another store key into an [OtherKeyError] (a usage
// error: the setting is wrong, or --force is needed).
func (g *Grant) otherKey(err error) error {
	var wk *store.WrongKeyError
	if !errors.As(err, &wk) {
		return nil
	}
	return failure.Wrap(failure.Usage, &OtherKeyError{Login: g.Name, Have: wk.Have, Got: wk.Want})
}

// ErrAlreadyLoggedOut means there was no login to forget (a second logout).
var ErrAlreadyLoggedOut = errors.New("already logged out")

// Logout forgets the login's tokens, any answer of it kept on this machine, the client secret
// the file store keeps with it and, with forgetSecret, the one kept in the keychain. It holds
// the lock, so a refresh in flight is not undone by the delete or the other way round. A login sealed under another
// store key is removed only with force. With nothing to forget (and no answer waiting in the
// journal), it does nothing else and says so with [ErrAlreadyLoggedOut].
func (g *Grant) Logout(ctx context.Context, forgetSecret, force bool) error {
	unlock, err := g.lockOnly(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = g.store.Load(g.Name)
	if !force {
		if err := g.otherKey(err); err != nil {
			return err
		}
	}
	if errors.Is(err, store.ErrNotFound) && !g.journal.Holds(g.Name) && !forgetSecret {
		if other := g.notFoundHere(); other != nil {
			return other
		}
		g.forgetSecretWithLogin()
		return ErrAlreadyLoggedOut
	}
	if err := g.store.Delete(g.Name); err != nil {
		return fmt.Errorf("env %s: %w", g.Name, err)
	}
	if err := g.journal.Remove(g.Name); err != nil {
		return fmt.Errorf("env %s: the tokens are gone, but %w", g.Name, err)
	}
	if k := g.secrets; k != nil && (forgetSecret || k.withLogin) {
		if err := k.keeper.Delete(k.key); err != nil {
			return fmt.Errorf("env %s: the tokens are gone, but the client secret kept in %s could not be removed: %w", g.Name, k.where, err)
		}
	}
	return nil
}

// forgetSecretWithLogin removes a client secret kept with a login that is gone, as the file
// store keeps it; quietly, as the login it belonged to is already gone.
func (g *Grant) forgetSecretWithLogin() {
	if k := g.secrets; k != nil && k.withLogin {
		_ = k.keeper.Delete(k.key)
	}
}

// ErrNoRefreshToken means the login holds no refresh token to export.
var ErrNoRefreshToken = errors.New("the server issued no refresh token")

// Export hands the login's refresh token to write and then, unless keep is set, forgets the
// login here: two holders of one rotating refresh token spend each other's token. Both happen
// under the lock, so no refresh here rotates the token between the two.
func (g *Grant) Export(ctx context.Context, keep bool, write func(refreshToken string) error) error {
	unlock, err := g.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := g.store.Load(g.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if other := g.notFoundHere(); other != nil {
			return other
		}
		return g.NotLoggedIn()
	case err != nil:
		return fmt.Errorf("env %s: %w", g.Name, err)
	case b.Spent != nil:
		return g.unsaved(b.Spent)
	case b.Refused != nil:
		return failure.NeedLogin(g.Name, "the server refused this login's refresh token ("+refusalReason(b.Refused)+"), so there is nothing worth exporting", nil)
	case b.RefreshToken == "":
		return fmt.Errorf("env %s: %w, so there is nothing to export", g.Name, ErrNoRefreshToken)
	}
	if err := write(b.RefreshToken); err != nil {
		return err
	}
	if keep {
		return nil
	}
	if err := g.store.Delete(g.Name); err != nil {
		return fmt.Errorf("env %s: the refresh token was handed out, but the login here could not be removed: %w", g.Name, err)
	}
	g.forgetSecretWithLogin()
	return nil
}

// LoginExistsError means an import would replace a working login and was not told to.
type LoginExistsError struct{ Env string }

func (e *LoginExistsError) Error() string {
	return "env " + e.Env + " already holds a login; importing would replace it"
}

// Import starts the login over from refreshToken. The token is refreshed at once, so a bad one
// is found now and the one kept is fresh; only when that worked does it replace what the store
// holds, so a failed import never costs the login already there. A working login is replaced
// only with replace set; one that is missing, unreadable or refused always is; one sealed under
// another store key only with replace.
func (g *Grant) Import(ctx context.Context, refreshToken string, replace bool) (*store.Bundle, error) {
	unlock, err := g.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	current, err := g.replaceable(replace, func(b *store.Bundle) error {
		if b.Refused == nil && !replace {
			return failure.Wrap(failure.Usage, &LoginExistsError{Env: g.Name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key, err := g.store.JournalKey(g.Name)
	if err != nil {
		return nil, fmt.Errorf("env %s: not imported, as the tokens could not be kept: %w", g.Name, err)
	}
	spend := g.newSpend(store.SpendImport)
	if err := g.markReplacing(current, spend, &store.Bundle{RefreshToken: refreshToken}); err != nil {
		return nil, fmt.Errorf("env %s: not imported, as the tokens could not be saved: %w", g.Name, err)
	}
	fresh, err := g.refresh(ctx, &store.Bundle{RefreshToken: refreshToken})
	if err != nil {
		_ = g.undoReplacing(current)
		kept := "; the login stored before is unchanged"
		if current == nil {
			kept = ""
		}
		var refusal *refusalError
		var lost *lostAnswerError
		switch {
		case errors.As(err, &refusal) && current == nil:
			return nil, failure.NeedLogin(g.Name, fmt.Sprintf("the imported refresh token was refused (%s): it is expired, revoked or already used", refusal.reason), nil)
		case errors.As(err, &refusal):
			// Not "login required": the login stored before still works.
			return nil, fmt.Errorf("env %s: the imported refresh token was refused (%s)%s", g.Name, refusal.reason, kept)
		case errors.As(err, &lost) && current == nil:
			// Not "temporary": importing the same token again would replay a spent one, which
			// Pleo answers by revoking the login it belonged to.
			return nil, failure.NeedLogin(g.Name, "the imported refresh token was sent but the answer was lost, so it is spent", lost.err)
		case errors.As(err, &lost):
			// Not "temporary" either, for the same reason; the login stored before still works.
			return nil, failure.Wrap(failure.Other, fmt.Errorf("env %s: the imported refresh token was sent but the answer was lost, so it is spent%s: %w", g.Name, kept, lost.err))
		}
		return nil, fmt.Errorf("%w%s", err, kept)
	}
	if err := g.keep(ctx, key, &store.JournalEntry{Answers: spend.ID, Bundle: fresh}, "imported"); err != nil {
		return nil, err
	}
	if hook := g.onRotate(); hook != nil {
		if err := hook(fresh); err != nil {
			return fresh, fmt.Errorf("env %s: imported and saved here, but %w", g.Name, err)
		}
	}
	return fresh, nil
}

// replaceable reads the login about to be replaced, the lock held: nil when there is none, or
// it is unreadable; one sealed under another store key only with force; accept decides on a
// readable one.
func (g *Grant) replaceable(force bool, accept func(*store.Bundle) error) (*store.Bundle, error) {
	current, err := g.store.Load(g.Name)
	switch {
	case err == nil:
		if current.Spent != nil && current.AccessToken == "" {
			return nil, nil // only an earlier attempt's spend: nothing to keep
		}
		return current, accept(current)
	case g.otherKey(err) != nil && !force:
		return nil, g.otherKey(err)
	case g.otherKey(err) != nil:
		var wk *store.WrongKeyError
		errors.As(err, &wk)
		fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: replacing the login sealed under store key %s (--force); the machines with that key no longer open it\n", g.Name, wk.Have)
		return nil, nil
	default:
		return nil, nil // missing or unreadable: replacing it is the way out
	}
}

// markReplacing records spend in the store before it is sent — the proof, by a real write of
// the login's entry, that the answer can be saved there. A working login stays usable while it
// is replaced (its Replacing names the spend); where there is none, the entry holds only the
// spend (placeholder carries what it needs, such as an imported refresh token).
func (g *Grant) markReplacing(current *store.Bundle, spend *store.Spend, placeholder *store.Bundle) error {
	if current != nil {
		marked := *current
		marked.Replacing = spend
		return g.store.Save(g.Name, &marked)
	}
	p := *placeholder
	p.Spent = spend
	return g.store.Save(g.Name, &p)
}

// undoReplacing takes back [Grant.markReplacing] after a spend that brought nothing to keep.
func (g *Grant) undoReplacing(current *store.Bundle) error {
	if current == nil {
		return g.store.Delete(g.Name)
	}
	restored := *current
	restored.Replacing = nil
	return g.store.Save(g.Name, &restored)
}

// Status is what is known of a login without asking any server.
type Status struct {
	Store string
	// Bundle is nil when no tokens are stored.
	Bundle *store.Bundle
	// Unsaved, when set, says why the login cannot be used until a spend's answer is saved (or
	// that it never will be): the same error token would return.
	Unsaved error
}

// Status reads the login as stored, first finishing (under the lock) a save that a crash
// interrupted or an answer kept in this machine's journal.
func (g *Grant) Status(ctx context.Context) (Status, error) {
	st := Status{Store: g.store.Name()}
	if g.store.Pending(g.Name) || g.journal.Holds(g.Name) {
		unlock, err := g.lock(ctx)
		if err != nil {
			return st, err
		}
		unlock()
	}
	b, err := g.store.Load(g.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return st, g.notFoundHere()
	case err != nil:
		if ok := g.otherKey(err); ok != nil {
			return st, ok
		}
		return st, fmt.Errorf("env %s: %w", g.Name, err)
	}
	st.Bundle = b
	if b.Spent != nil {
		st.Unsaved = g.unsaved(b.Spent)
	}
	return st, nil
}
