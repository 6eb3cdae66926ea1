package store

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pleoauth/pleoauth/internal/privatefile"
)

// probeWrite proves that a file can be created in dir and removed again — on the real folder,
// with its real file system, permissions and free space. The stores' Check uses it before a
// login starts; before a refresh token or a code is spent, the protocol writes the login's own
// entry instead, which proves the same for the very file the answer goes to.
func probeWrite(dir string) error {
	if err := privatefile.EnsureDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return privatefile.Explain(fmt.Errorf("write in %s: %w", dir, err))
	}
	name := f.Name()
	_, err = f.Write(make([]byte, 4096)) // a bundle's worth: a full disk fails here
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if rmErr := os.Remove(name); err == nil {
		err = rmErr
	}
	if err != nil {
		return privatefile.Explain(fmt.Errorf("write in %s: %w", dir, err))
	}
	return nil
}

// writeFileAtomic replaces path, in a private folder, with data (see [privatefile.Write]), and
// removes what killed writers left behind.
func writeFileAtomic(path string, data []byte) error {
	if err := privatefile.EnsureDir(filepath.Dir(path)); err != nil {
		return err
	}
	if err := privatefile.Write(path, data); err != nil {
		return err
	}
	removeLeftovers(path)
	return nil
}

// removeLeftovers deletes temporary files that a writer killed before its rename left behind.
// Writers of one environment hold its refresh lock, so none of these is in use.
func removeLeftovers(path string) {
	for _, f := range privatefile.Leftovers(path) {
		_ = os.Remove(f)
	}
}

// rollForward finishes a save that a crash interrupted between writing its temporary file and
// putting it in place: the newest leftover that opens replaces path, and the others are
// removed. A leftover is always newer than path, since every save writes its temporary file
// first and removes the leftovers after it is in place. After a refresh the server has already
// rotated the refresh token, so the leftover holds the only refresh token that still works.
//
// A leftover that records a spend is the exception: a spend is sent only once its record is in
// place, so one still in a temporary file was never sent, and the bundle at path (if it opens)
// is the login as it stands; if it does not (torn by a crash while written in place), the
// leftover's login is taken without its spend. The caller holds the login's lock, so no writer is between its
// write and its rename.
func rollForward(path string, open func(data []byte) (*Bundle, error), encode func(*Bundle) ([]byte, error)) (bool, error) {
	inPlace := func() bool {
		data, err := readPrivateFile(path)
		if err != nil {
			return false
		}
		_, err = open(data)
		return err == nil
	}
	adopted := false
	for _, f := range privatefile.Leftovers(path) {
		if !adopted {
			data, err := readPrivateFile(f)
			if err == nil {
				if b, err := open(data); err == nil && (b.Spent == nil || !inPlace()) {
					if b.Spent != nil {
						// The bundle in place is torn (a crash while it was written in place):
						// take the login from the leftover, without the spend never sent.
						b.Spent = nil
						if data, err = encode(b); err == nil {
							err = privatefile.Write(path, data)
						}
						if err != nil {
							return false, fmt.Errorf("finish the interrupted save of %s: %w", path, err)
						}
						_ = os.Remove(f)
						adopted = true
						continue
					}
					if err := privatefile.ReplaceWith(path, f, data); err != nil {
						return false, fmt.Errorf("finish the interrupted save of %s: %w", path, err)
					}
					adopted = true
					continue
				}
			}
		}
		_ = os.Remove(f)
	}
	return adopted, nil
}
