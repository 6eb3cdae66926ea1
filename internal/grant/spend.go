package grant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pleoauth/pleoauth/internal/crashpoint"
	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/store"
)

// The rule this file keeps, for every store (Pleo rotates the refresh token on every refresh
// and revokes the whole login when a spent one is presented again, pleo-oauth "Tokens"):
//
//   - a refresh token is recorded as spent in the store before it is sent — a real write of the
//     login's own entry, which also proves, before anything is spent, that the answer can be
//     saved where it must go;
//   - a spent refresh token is never sent again, by any process on any machine: whoever finds a
//     spend without its answer says where the answer is ([Grant.unsaved]) and sends nothing;
//   - the answer is written to this machine's journal, synced, before the store write is tried,
//     and the store write is retried; what the store cannot take stays in the journal, and the
//     next pleoauth here that takes the lock saves it ([Grant.finishJournal]) — never nowhere.
//
// The same holds for a login's code and an imported refresh token.

// DefaultSaveRetry bounds how long a command retries saving an answer the store refused (Redis
// restarting, a disk being freed) before it leaves the answer in the journal and exits.
const DefaultSaveRetry = 30 * time.Second

// thisProcess names the process in the spends it records.
func thisProcess() (string, int) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	return host, os.Getpid()
}

// newSpend records that this process is about to send what grant names.
func (g *Grant) newSpend(grant string) *store.Spend {
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	host, pid := g.self()
	return &store.Spend{ID: hex.EncodeToString(id), Grant: grant, Host: host, PID: pid, Home: g.cfg.Home, At: g.d.Now().UTC()}
}

// refreshAndSave spends current's refresh token, with the lock held, and keeps the answer.
func (g *Grant) refreshAndSave(ctx context.Context, current *store.Bundle) (*store.Bundle, error) {
	crashpoint.Hit(crashpoint.LockHeld)
	key, err := g.store.JournalKey(g.Name)
	if err != nil {
		return nil, fmt.Errorf("env %s: not refreshed, as the new tokens could not be kept: %w", g.Name, err)
	}
	spend := g.newSpend(store.SpendRefresh)
	// A login or import under way on another machine (Replacing) stays named: its answer, in
	// that machine's journal, still replaces this login when that machine runs pleoauth again.
	marked := *current
	marked.Spent = spend
	if err := g.store.Save(g.Name, &marked); err != nil {
		var lost *store.LockLostError
		if errors.As(err, &lost) {
			// Nothing was sent, and the next run takes the lock afresh: worth a retry.
			return nil, failure.Wrap(failure.Temporary, fmt.Errorf("env %s: not refreshed, nothing sent: %w; run the command again", g.Name, err))
		}
		return nil, fmt.Errorf("env %s: not refreshed, as the new tokens could not be saved: %w", g.Name, err)
	}
	spentHash := ""
	if g.seed() != "" {
		// Where PLEOAUTH_REFRESH_TOKEN is set, every refresh token sent is listed on this
		// machine, beyond the login's life, so that the variable is never sent once spent here
		// and is told from one that moved past this login (see newSeed).
		spentHash = store.TokenHash(current.RefreshToken)
		if err := g.spent.Add(g.Env.Name, spentHash); err != nil {
			err = fmt.Errorf("env %s: not refreshed, as the refresh token could not be listed as sent: %w", g.Name, err)
			return nil, g.undoSpend(ctx, key, spend, current, err)
		}
	}
	crashpoint.Hit(crashpoint.SpentRecorded)

	fresh, err := g.refresh(ctx, current)
	if err == nil {
		crashpoint.Hit(crashpoint.RefreshAnswered)
		if err := g.keep(ctx, key, &store.JournalEntry{Answers: spend.ID, Spends: store.TokenHash(current.RefreshToken), Bundle: fresh}, "refreshed"); err != nil {
			return nil, err
		}
		if hook := g.onRotate(); hook != nil && fresh.RefreshToken != current.RefreshToken {
			if err := hook(fresh); err != nil {
				return nil, fmt.Errorf("env %s: tokens refreshed and saved here, but %w", g.Name, err)
			}
		}
		return fresh, nil
	}

	var refusal *refusalError
	var lost *lostAnswerError
	switch {
	case errors.As(err, &refusal):
		// Remember the refusal, so that no later command sends the dead token again.
		dead := *current
		dead.Refused = &store.Refusal{At: g.d.Now().UTC(), Reason: refusal.reason}
		if current.AccessToken == "" { // a seed: nothing was stored but the spend
			_ = g.store.Delete(g.Name)
		} else {
			_ = g.store.Save(g.Name, &dead)
		}
		return nil, failure.NeedLogin(g.Name, fmt.Sprintf("refresh token refused (%s): expired or revoked", refusal.reason), nil)
	case errors.As(err, &lost):
		// The spend stays recorded: the server may have rotated (a 2xx says it did), and
		// sending the token again would be a replay that revokes the whole login. It is
		// marked lost, so that nobody waits for an answer that will never come.
		spend.Lost = true
		_ = g.store.Save(g.Name, &marked)
		if lost.unusable {
			return nil, fmt.Errorf("%w; the refresh token it answered is spent, so log in again once that is fixed", lost.err)
		}
		return nil, failure.NeedLogin(g.Name, "the refresh was sent but its answer was lost, so the refresh token is spent", lost.err)
	}
	// Not carried out (the server answered with a failure, or the request never left): the
	// refresh token is still good, so the spend is undone.
	if spentHash != "" {
		_ = g.spent.Remove(g.Env.Name, spentHash)
	}
	return nil, g.undoSpend(ctx, key, spend, current, err)
}

// undoSpend puts back the bundle a spend was recorded on, after a request that was not carried
// out (why), and returns why — unless the undo failed everywhere, which leaves the spend
// recorded and the login lost, and says so. The undo is kept like an answer (journal, then
// store, retried), so that a store failing now does not turn a good refresh token into a
// spent one. A bundle that held nothing but the spend (a seed) is removed.
func (g *Grant) undoSpend(ctx context.Context, key store.JournalKey, spend *store.Spend, previous *store.Bundle, why error) error {
	if previous.AccessToken == "" {
		_ = g.store.Delete(g.Name)
		return why
	}
	restored := *previous
	restored.Spent = nil
	err := g.keep(ctx, key, &store.JournalEntry{Answers: spend.ID, Bundle: &restored}, "the refresh was not carried out")
	switch {
	case err == nil:
		return why
	case failure.KindOf(err) == failure.LoginRequired:
		return err // the spend stays recorded: the next command says so too
	default:
		return fmt.Errorf("%w; %v", why, err)
	}
}

// keep saves the answer to a spend (entry): first to this machine's journal (synced), then to
// the store, retried for a while when the store refuses; what the store never took stays in
// the journal for the next pleoauth run here. did says what happened, for the messages. The
// lock is held.
func (g *Grant) keep(ctx context.Context, key store.JournalKey, entry *store.JournalEntry, did string) error {
	journalErr := g.journal.Write(g.Name, key, entry)
	crashpoint.Hit(crashpoint.Journalled)
	err := g.store.Save(g.Name, entry.Bundle)
	if err != nil {
		err = g.retrySave(ctx, entry, err)
	}
	switch {
	case err == nil:
		if journalErr == nil {
			_ = g.journal.Remove(g.Name)
		}
		return nil
	case errors.Is(err, errSuperseded):
		_ = g.journal.Remove(g.Name)
		return failure.Wrap(failure.Temporary, fmt.Errorf("env %s: %s, but while this process waited the login in the %s store was replaced (by a new login or import); the answer was not saved over it: run the command again", g.Name, did, g.store.Name()))
	case journalErr == nil:
		return failure.Wrap(failure.Temporary, fmt.Errorf("env %s: %s, but the tokens could not be saved to the %s store (%w); they are kept on this machine in %s and the next pleoauth run here saves them",
			g.Name, did, g.store.Name(), err, filepath.Join(g.journal.Dir, g.Name)))
	default:
		return failure.NeedLogin(g.Name, fmt.Sprintf("%s, but the tokens could be saved neither to the %s store (%v) nor to this machine's journal (%v), so they are lost", did, g.store.Name(), err, journalErr), nil)
	}
}

// errSuperseded means the store moved past a spend (a new login or import replaced the login)
// before its answer could be saved: the answer is not saved over the newer login.
var errSuperseded = errors.New("the login was replaced since")

// retrySave retries the save of entry, with backoff, until it is done, ctx ends or the bound
// passes ([DefaultSaveRetry], or lock_timeout when shorter). A Redis lock lost meanwhile (the
// process was stopped past its life, or Redis restarted empty) is taken again first; the
// compare-and-set then writes only over the spend it answers.
func (g *Grant) retrySave(ctx context.Context, entry *store.JournalEntry, err error) error {
	bound := DefaultSaveRetry
	if lt := g.cfg.LockTimeout; lt > 0 && lt < bound {
		bound = lt
	}
	deadline := g.d.Now().Add(bound)
	wait := 250 * time.Millisecond
	for g.d.Now().Before(deadline) {
		if g.sleep(ctx, wait) != nil {
			return err
		}
		wait = min(wait*2, 4*time.Second)
		var lost *store.LockLostError
		if errors.As(err, &lost) {
			err = g.settleRelocked(ctx, entry)
		} else {
			err = g.settle(entry)
		}
		if err == nil || errors.Is(err, errSuperseded) {
			return err
		}
	}
	return err
}

// settleRelocked takes the lock again (its first hold was lost) and settles entry under it.
func (g *Grant) settleRelocked(ctx context.Context, entry *store.JournalEntry) error {
	lockCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	unlock, err := g.locks.Lock(lockCtx, g.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return g.settle(entry)
}

// settle saves a journalled answer to the store, the lock held, if the store still waits for
// it: it holds the spend the answer answers, or nothing at all (Redis restarted empty: the
// answer restores the login). A store that moved on is [errSuperseded].
func (g *Grant) settle(e *store.JournalEntry) error {
	_, err := g.settleRotated(e)
	return err
}

// settleRotated is [Grant.settle], also telling whether the save brought a refresh token the
// store did not hold (so on_rotate has a rotation to hear of).
func (g *Grant) settleRotated(e *store.JournalEntry) (rotated bool, err error) {
	cur, err := g.store.Load(g.Name)
	switch {
	case errors.Is(err, store.ErrLoggedOut):
		return false, errSuperseded // a logout since: the answer must not bring the login back
	case errors.Is(err, store.ErrNotFound):
		cur = nil
	case err != nil:
		return false, err
	case cur.Spent != nil && cur.Spent.ID == e.Answers:
	case cur.Replacing != nil && cur.Replacing.ID == e.Answers:
	case cur.RefreshToken == e.Bundle.RefreshToken && cur.AccessToken == e.Bundle.AccessToken:
		return false, nil // saved already: the store took the write whose reply was lost
	case e.Spends != "" && cur.Spent == nil && store.TokenHash(cur.RefreshToken) == e.Spends:
		// The store went back to before the spend (a Redis restored from an older snapshot):
		// its refresh token is spent, and the answer is the only live one.
	default:
		return false, errSuperseded
	}
	if err := g.store.Save(g.Name, e.Bundle); err != nil {
		return false, err
	}
	return e.Bundle.RefreshToken != "" && (cur == nil || cur.RefreshToken != e.Bundle.RefreshToken), nil
}

// finishJournal saves an answer an earlier process on this machine kept in the journal, the
// lock held; one the store moved past is dropped. A journal that does not open (sealed under a
// key this machine no longer has) is set aside, never deleted.
func (g *Grant) finishJournal() error {
	if !g.journal.Holds(g.Name) {
		return nil
	}
	key, err := g.store.JournalKey(g.Name)
	if err != nil {
		return fmt.Errorf("env %s: an answer kept on this machine cannot be opened yet: %w", g.Name, err)
	}
	path := filepath.Join(g.journal.Dir, g.Name)
	e, err := g.journal.Read(g.Name, key)
	var corrupt *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case errors.As(err, &corrupt):
		aside := path + ".unreadable-" + g.d.Now().UTC().Format("20060102T150405Z")
		fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: the journal %s does not open with this machine's key; moved to %s\n", g.Name, path, aside)
		return os.Rename(path, aside)
	case err != nil:
		return fmt.Errorf("env %s: %w", g.Name, err)
	}
	rotated, err := g.settleRotated(e)
	switch {
	case err == nil && rotated:
		// The rotation reaches on_rotate now, as it would have when the answer came: a CI
		// secret written back late is still written back.
		if hook := g.onRotate(); hook != nil {
			if err := hook(e.Bundle); err != nil {
				fmt.Fprintf(g.d.Stderr, "pleoauth: env %s: the refresh kept on this machine is saved now, but %v\n", g.Name, err)
			}
		}
		return g.journal.Remove(g.Name)
	case err == nil, errors.Is(err, errSuperseded):
		return g.journal.Remove(g.Name)
	default:
		return failure.Wrap(failure.Temporary, fmt.Errorf("env %s: an answer kept on this machine (%s) could not be saved to the %s store yet (%w); nothing was sent, and the next pleoauth run here tries again",
			g.Name, path, g.store.Name(), err))
	}
}
