package store

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// Spent lists, on this machine, the refresh tokens it sent for an environment, as
// [TokenHash]es: the newest [MaxSpent], in PLEOAUTH_HOME/journal/<env>+spent (0600). It is
// kept only where PLEOAUTH_REFRESH_TOKEN is set (the CI bootstrap), where it tells a variable
// that moved past this machine's login (another runner refreshed and wrote the new token back)
// from one this machine already spent (its own write-back failed): the first is taken, the
// second never sent again. It outlives logins, logouts and exports, and belongs to the
// environment, not a profile: a refresh token is the environment's, whatever login holds it.
type Spent struct {
	Dir string
}

// MaxSpent bounds the list: a CI variable is never older than a few refreshes.
const MaxSpent = 1000

func (s Spent) path(env string) (string, error) {
	if err := checkEnvName(env); err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, env+"+spent"), nil // "+" is in no login's name
}

func (s Spent) read(env string) ([]string, error) {
	path, err := s.path(env)
	if err != nil {
		return nil, err
	}
	data, err := readPrivateFile(path)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}

// Holds reports whether this machine sent the refresh token whose hash this is.
func (s Spent) Holds(env, hash string) bool {
	hashes, _ := s.read(env)
	for _, h := range hashes {
		if h == hash {
			return true
		}
	}
	return false
}

// Add lists hash, before its refresh token is sent; the oldest beyond [MaxSpent] go.
func (s Spent) Add(env, hash string) error {
	return s.change(env, func(hashes []string) []string {
		for _, h := range hashes {
			if h == hash {
				return hashes
			}
		}
		hashes = append(hashes, hash)
		return hashes[max(0, len(hashes)-MaxSpent):]
	})
}

// Remove takes hash off the list, after a request the server did not carry out: its refresh
// token was not spent after all.
func (s Spent) Remove(env, hash string) error {
	return s.change(env, func(hashes []string) []string {
		out := hashes[:0]
		for _, h := range hashes {
			if h != hash {
				out = append(out, h)
			}
		}
		return out
	})
}

func (s Spent) change(env string, edit func([]string) []string) error {
	path, err := s.path(env)
	if err != nil {
		return err
	}
	hashes, err := s.read(env)
	if err != nil {
		return err
	}
	if err := privatefile.EnsureDir(s.Dir); err != nil {
		return err
	}
	hashes = edit(hashes)
	return privatefile.Write(path, []byte(strings.Join(hashes, "\n")+"\n"))
}
