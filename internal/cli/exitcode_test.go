package cli

import (
	"fmt"
	"testing"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/exitcode"
)

// TestConfigErrorsExitUsage: a config file that cannot be read as written, or a setting that
// makes no sense, is the user's to fix — config.MarkUsage marks it so that it exits 2, not 1.
func TestConfigErrorsExitUsage(t *testing.T) {
	for _, err := range []error{
		config.MarkUsage(fmt.Errorf("load: %w", &config.FileError{Path: "config.yaml", Line: 3, Msg: "unknown key"})),
		config.MarkUsage(&config.UsageError{Msg: "x"}),
	} {
		if got := exitcode.Of(err, false); got != exitcode.Usage {
			t.Errorf("exitcode.Of(%v) = %d; want %d", err, got, exitcode.Usage)
		}
	}
}
