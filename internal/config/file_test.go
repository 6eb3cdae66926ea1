package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestSetWritesPrivately: "config set" writes config.yaml as the token stores write theirs — a
// private file (0600) in a private folder, replaced whole with no temporary file left behind —
// and refuses a config.yaml that is a symbolic link or a PLEOAUTH_HOME others can write to,
// leaving both as they were.
func TestSetWritesPrivately(t *testing.T) {
	const before = "environments:\n  staging:\n    client_id: old-id\n"
	tests := []struct {
		name string
		// setup prepares the folder that becomes PLEOAUTH_HOME and returns it.
		setup func(t *testing.T, dir string) string
		want  string // in Set's error; "" when it succeeds
	}{
		{name: "no PLEOAUTH_HOME yet", setup: func(t *testing.T, dir string) string {
			return filepath.Join(dir, "not", "yet")
		}},
		{name: "no config.yaml yet", setup: func(t *testing.T, dir string) string { return dir }},
		{name: "config.yaml readable by others", setup: func(t *testing.T, dir string) string {
			writeFileMode(t, filepath.Join(dir, "config.yaml"), before, 0o644)
			return dir
		}},
		// Older versions wrote through the fixed name .config.tmp.yaml: one left by a crash, or
		// planted as a link, must be neither written through nor renamed into place.
		{name: "a leftover .config.tmp.yaml", setup: func(t *testing.T, dir string) string {
			writeFileMode(t, filepath.Join(dir, "config.yaml"), before, 0o600)
			writeFileMode(t, filepath.Join(dir, ".config.tmp.yaml"), "half a file", 0o644)
			return dir
		}},
		{name: "a .config.tmp.yaml linking elsewhere", setup: func(t *testing.T, dir string) string {
			home := filepath.Join(dir, "home")
			mustMkdir(t, home)
			writeFileMode(t, filepath.Join(dir, "victim"), "not pleoauth's", 0o644)
			mustSymlink(t, filepath.Join(dir, "victim"), filepath.Join(home, ".config.tmp.yaml"))
			return home
		}},
		{name: "PLEOAUTH_HOME readable by others", setup: func(t *testing.T, dir string) string {
			mustChmod(t, dir, 0o755)
			return dir
		}},
		{name: "config.yaml a symbolic link", setup: func(t *testing.T, dir string) string {
			home := filepath.Join(dir, "home")
			mustMkdir(t, home)
			writeFileMode(t, filepath.Join(dir, "dotfiles.yaml"), before, 0o600)
			mustSymlink(t, "../dotfiles.yaml", filepath.Join(home, "config.yaml"))
			return home
		}, want: "config.yaml is a symbolic link to " + "DIR/dotfiles.yaml; pleoauth config set writes only a plain file, so edit DIR/dotfiles.yaml by hand, or replace the link"},
		{name: "config.yaml a dangling symbolic link", setup: func(t *testing.T, dir string) string {
			home := filepath.Join(dir, "home")
			mustMkdir(t, home)
			mustSymlink(t, filepath.Join(dir, "nowhere.yaml"), filepath.Join(home, "config.yaml"))
			return home
		}, want: "config.yaml is a symbolic link to DIR/nowhere.yaml"},
		{name: "PLEOAUTH_HOME writable by others", setup: func(t *testing.T, dir string) string {
			mustChmod(t, dir, 0o777)
			return dir
		}, want: "writable by other users; run \"chmod go-w DIR\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			home := tt.setup(t, dir)
			file := filepath.Join(home, "config.yaml")
			entriesBefore := dirNames(t, home)
			var targetBefore string
			if target, err := filepath.EvalSymlinks(file); err == nil {
				targetBefore = fileText(t, target)
			}
			v := vars{"PLEOAUTH_HOME": home}
			c, err := Load(flagSet("--env", "staging"), v.get)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Set("client_id", "new-id")

			if tt.want != "" {
				want := strings.ReplaceAll(tt.want, "DIR", dir)
				if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Set = %v; want one line containing %q", err, want)
				}
				if got := dirNames(t, home); !slices.Equal(got, entriesBefore) {
					t.Errorf("after a refused Set, PLEOAUTH_HOME holds %q; want %q as before", got, entriesBefore)
				}
				if target, err := filepath.EvalSymlinks(file); err == nil && fileText(t, target) != targetBefore {
					t.Errorf("a refused Set changed the file config.yaml points to")
				}
				return
			}
			if err != nil {
				t.Fatalf("Set = %v; want it written", err)
			}
			if victim := filepath.Join(dir, "victim"); fileExists(victim) && fileText(t, victim) != "not pleoauth's" {
				t.Errorf("Set wrote through a link at %s", filepath.Join(home, ".config.tmp.yaml"))
			}
			fi, err := os.Lstat(file)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o600 {
				t.Errorf("config.yaml mode %v; want a plain file, -rw-------", fi.Mode())
			}
			if fi, err := os.Stat(home); err != nil || fi.Mode().Perm()&0o022 != 0 {
				t.Errorf("PLEOAUTH_HOME %v, %v; want a folder only its owner writes to", fi.Mode(), err)
			}
			want := append(slices.DeleteFunc(entriesBefore, func(n string) bool { return n == "config.yaml" }), "config.yaml")
			slices.Sort(want)
			if got := dirNames(t, home); !slices.Equal(got, want) {
				t.Errorf("PLEOAUTH_HOME holds %q after Set; want %q (no temporary file of its own)", got, want)
			}
			c, err = Load(flagSet("--env", "staging"), v.get)
			if err != nil {
				t.Fatalf("config.yaml as written does not load: %v", err)
			}
			if s, err := c.Get("client_id"); err != nil || s.Value != "new-id" {
				t.Errorf("client_id read back = %q, %v; want %q", s.Value, err, "new-id")
			}
		})
	}
}

// TestSetConcurrently: config set runs at the same time in one PLEOAUTH_HOME all succeed (a
// fixed temporary name would have one rename the other's half-written file, or fail to find
// it), and leave one whole config.yaml and no temporary file.
func TestSetConcurrently(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	v := vars{"PLEOAUTH_HOME": home}
	envs := []string{"staging", "production", "local"}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(envs))
	for i := range 4 * len(envs) {
		wg.Go(func() {
			c, err := Load(flagSet("--env", envs[i%len(envs)]), v.get)
			if err == nil {
				_, err = c.Set("client_id", fmt.Sprintf("id-%d", i))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a concurrent Set: %v", err)
		}
	}
	if got := dirNames(t, home); !slices.Equal(got, []string{"config.yaml"}) {
		t.Errorf("PLEOAUTH_HOME holds %q; want only config.yaml", got)
	}
	if _, err := Load(flagSet(), v.get); err != nil {
		t.Errorf("config.yaml after concurrent Sets does not load: %v", err)
	}
}

// TestSetCreatesPrivateHome: a PLEOAUTH_HOME that config set creates is 0700, as the stores
// make it.
func TestSetCreatesPrivateHome(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "new")
	c, err := Load(flagSet(), vars{"PLEOAUTH_HOME": home}.get)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set("default_env", "local"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(home); err != nil || fi.Mode() != os.ModeDir|0o700 {
		t.Errorf("PLEOAUTH_HOME %v, %v; want drwx------", fi.Mode(), err)
	}
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names // ReadDir sorts them
}

func writeFileMode(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	mustChmod(t, path, mode) // whatever the umask
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustChmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableFileNamesNoLine: a config.yaml that cannot be read at all (here a folder) is a
// file error that names the file with no line number, since no line is at fault.
func TestUnreadableFileNamesNoLine(t *testing.T) {
	v := setHome(t, "")
	file := filepath.Join(v["PLEOAUTH_HOME"], "config.yaml")
	if err := os.Mkdir(file, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Load(nil, v.get)
	var fe *FileError
	if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), file+": ") {
		t.Fatalf("Load() = %v; want a file error that starts with %q", err, file+": ")
	}
}

// TestAliasesAreFollowed: YAML anchors and aliases share a value or a whole environment between
// entries of config.yaml, as YAML means them to.
func TestAliasesAreFollowed(t *testing.T) {
	v := setHome(t, `
environments:
  staging:
    client_id: &id shared-id
  x: &server
    auth_server_url: https://auth.example.com
    client_id: *id
  y: *server
`)
	c, err := Load(nil, v.get)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"staging", "x", "y"} {
		e, ok := c.Configured(name)
		if !ok || e.ClientID != "shared-id" {
			t.Errorf("environment %s: client_id %q (found %v); want shared-id", name, e.ClientID, ok)
		}
	}
	if e, _ := c.Configured("y"); e.AuthServerURL != "https://auth.example.com" {
		t.Errorf("environment y: auth_server_url %q; want the one of x", e.AuthServerURL)
	}
}
