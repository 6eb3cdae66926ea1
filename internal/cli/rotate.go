package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/store"
)

// onRotateTimeout bounds the write-back command; it runs while the refresh lock is held.
const onRotateTimeout = time.Minute

// onRotate returns the hook that hands each new refresh token to the environment's on_rotate
// command, or nil when there is none. Pleo rotates the refresh token on every refresh, so a CI
// job that keeps it in a secret must write the new one back, or the next job starts from a spent
// token. The token goes to the command's stdin, never its argv; the command's output goes to
// stderr, so stdout keeps carrying only pleoauth's data.
func onRotate(d *Deps, env config.Environment) func(*store.Bundle) error {
	if env.OnRotate == "" {
		return nil
	}
	return func(b *store.Bundle) error {
		ctx, cancel := context.WithTimeout(context.Background(), onRotateTimeout)
		defer cancel()
		shell, flag := "sh", "-c"
		if runtime.GOOS == "windows" {
			shell, flag = "cmd", "/C"
		}
		cmd := exec.CommandContext(ctx, shell, flag, env.OnRotate)
		cmd.Env = append(os.Environ(), "PLEOAUTH_ENV="+env.Name)
		cmd.Stdin = strings.NewReader(b.RefreshToken + "\n")
		cmd.Stdout, cmd.Stderr = d.Stderr, d.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("the on_rotate command failed (%v), so the new refresh token was not written back; it is stored here, and \"pleoauth export-refresh-token --env %s\" prints it", err, env.Name)
		}
		return nil
	}
}
