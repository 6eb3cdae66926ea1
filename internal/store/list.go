package store

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// logins turns the names found in a store into env's profiles: "" (the default, stored under
// the environment's own name) and each "env@profile".
func logins(env string, names []string) []string {
	var out []string
	for _, n := range names {
		switch {
		case n == env:
			out = append(out, "")
		case strings.HasPrefix(n, env+"@") && checkEnvName(n) == nil:
			out = append(out, strings.TrimPrefix(n, env+"@"))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func globNames(dir, env, ext string) []string {
	var names []string
	for _, pattern := range []string{env + ext, env + "@*" + ext} {
		found, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range found {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ext))
		}
	}
	return names
}

// Profiles lists the profiles env has a login for ("" is the default profile).
func (f File) Profiles(env string) ([]string, error) {
	return logins(env, globNames(f.Dir, env, ".json")), nil
}

// Profiles lists the profiles env has a login for ("" is the default profile).
func (k Keyring) Profiles(env string) ([]string, error) {
	return logins(env, globNames(k.Dir, env, ".enc")), nil
}

// Profiles lists the profiles env has a login for ("" is the default profile).
func (r *Redis) Profiles(env string) ([]string, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	var names []string
	for _, pattern := range []string{r.bundleKey(env), r.bundleKey(env) + "@*"} {
		iter := r.Client.Scan(ctx, 0, pattern, 100).Iterator()
		for iter.Next(ctx) {
			names = append(names, strings.TrimPrefix(iter.Val(), r.prefix()+"bundle:"))
		}
		if err := iter.Err(); err != nil {
			return nil, r.unreachable(err)
		}
	}
	return logins(env, names), nil
}

// Holder names the store on this machine whose folder dir holds login's tokens: "file" for
// the plain file, "keyring" for the sealed one, "" for neither. Where both are (a login moved
// by an older pleoauth, which left the first behind), the one written last is the one in use,
// as every refresh rewrites it. It only looks at the folder, so it costs no keychain call.
func Holder(dir, login string) string {
	if checkEnvName(login) != nil {
		return ""
	}
	plain, errPlain := os.Stat(filepath.Join(dir, login+".json"))
	sealed, errSealed := os.Stat(filepath.Join(dir, login+".enc"))
	switch {
	case errPlain == nil && (errSealed != nil || plain.ModTime().After(sealed.ModTime())):
		return File{}.Name()
	case errSealed == nil:
		return Keyring{}.Name()
	}
	return ""
}
