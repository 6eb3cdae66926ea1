package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pleoauth/pleoauth/internal/failure"
	"github.com/pleoauth/pleoauth/internal/oauthtest"
)

// TestRedisRefusalIsASetting: a Redis that refuses the password or whose certificate is not
// trusted is a setting to fix (failure.Usage, exit 2) named in the message; a Redis that does not
// answer stays temporary (exit 5).
func TestRedisRefusalIsASetting(t *testing.T) {
	srv := oauthtest.StartRedis(t)
	admin := srv.Client()
	if err := admin.ConfigSet(context.Background(), "requirepass", "right-password").Err(); err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	trusted := x509.NewCertPool()
	trusted.AddCert(tlsSrv.Certificate())
	addr := "127.0.0.1:" + strconv.Itoa(srv.Port)
	tlsAddr := tlsSrv.Listener.Addr().String()

	tests := []struct {
		name         string
		opts         redis.Options
		passwordFrom string
		want         failure.Kind
		wantMsg      []string
	}{
		{name: "the right password", opts: redis.Options{Addr: addr, Password: "right-password"}, want: -1},
		{name: "a wrong password", opts: redis.Options{Addr: addr, Password: "wrong"}, passwordFrom: "PLEOAUTH_REDIS_PASSWORD",
			want: failure.Usage, wantMsg: []string{"refused the password (WRONGPASS", "; fix PLEOAUTH_REDIS_PASSWORD"}},
		{name: "a wrong password in the URL", opts: redis.Options{Addr: addr, Password: "wrong"}, passwordFrom: "the password in PLEOAUTH_REDIS_URL",
			want: failure.Usage, wantMsg: []string{"refused the password", "; fix the password in PLEOAUTH_REDIS_URL"}},
		{name: "no password", opts: redis.Options{Addr: addr},
			want: failure.Usage, wantMsg: []string{"asks for a password pleoauth was not given (NOAUTH", "; set PLEOAUTH_REDIS_PASSWORD"}},
		{name: "an untrusted certificate", opts: redis.Options{Addr: tlsAddr, TLSConfig: &tls.Config{}},
			want: failure.Usage, wantMsg: []string{"has a TLS certificate pleoauth does not trust", "set ca_file"}},
		{name: "a certificate for another host", opts: redis.Options{Addr: tlsAddr, TLSConfig: &tls.Config{RootCAs: trusted, ServerName: "redis.example"}},
			want: failure.Usage, wantMsg: []string{"has a TLS certificate for another host name", "in PLEOAUTH_REDIS_URL"}},
		{name: "nobody listening", opts: redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(oauthtest.FreePort(t))},
			want: failure.Temporary, wantMsg: []string{"did not answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.MaxRetries = -1
			c := redis.NewClient(&opts)
			defer c.Close()
			r := &Redis{Client: c, URL: "redis://" + opts.Addr + "/0", Timeout: 10 * time.Second,
				PasswordFrom: tt.passwordFrom, URLFrom: "PLEOAUTH_REDIS_URL"}
			err := r.Check()
			if tt.want < 0 {
				if err != nil {
					t.Fatalf("Check() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check() = nil; want refused")
			}
			if got := failure.KindOf(err); got != tt.want {
				t.Errorf("Check() = %v of kind %d; want kind %d", err, got, tt.want)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check() = %q; want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "right-password") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Check() = %q; want one line without the password", err)
			}
		})
	}
}

// What Redis answers decides what to fix: NOPERM is an ACL on the keys (the password was
// right), WRONGPASS and NOAUTH the password; Redis's own words are shown escaped, as every
// server's text is.
func TestRedisRefusalNamesWhatToFix(t *testing.T) {
	r := &Redis{URL: "redis://127.0.0.1:6379/0", PasswordFrom: "PLEOAUTH_REDIS_PASSWORD"}
	tests := []struct {
		answer, why, fix string
	}{
		{"NOPERM this user has no permissions to access one of the keys used as arguments", "not at pleoauth's keys", "redis_prefix"},
		{"WRONGPASS invalid username-password pair or user is disabled.", "refused the password", "fix PLEOAUTH_REDIS_PASSWORD"},
		{"NOAUTH Authentication required.", "was not given", "fix PLEOAUTH_REDIS_PASSWORD"},
		{"WRONGPASS \x1b]0;pwned\x07\x1b[31mred\u202e", "refused the password", "fix PLEOAUTH_REDIS_PASSWORD"},
	}
	for _, tt := range tests {
		err := r.refused(errors.New(tt.answer))
		if err == nil {
			t.Errorf("%q: not taken for a refusal", tt.answer)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.why) || !strings.Contains(msg, tt.fix) {
			t.Errorf("%q: %q; want it to say %q and %q", tt.answer, msg, tt.why, tt.fix)
		}
		if strings.ContainsAny(msg, "\x1b\x07\u202e") {
			t.Errorf("%q: the message holds Redis's text raw: %q", tt.answer, msg)
		}
	}
}

// A certificate pleoauth does not trust, where ca_file was set: the message names that
// setting to check, rather than advising to set it.
func TestRedisUntrustedCertificateNamesTheCAFile(t *testing.T) {
	tests := []struct {
		caFrom, want string
	}{
		{"", "set ca_file for this environment"},
		{"ca_file in /home/me/.pleoauth/config.yaml", "check that ca_file in /home/me/.pleoauth/config.yaml holds the CA"},
	}
	for _, tt := range tests {
		r := &Redis{URL: "rediss://redis.example:6380/0", CAFrom: tt.caFrom}
		err := r.refused(x509.UnknownAuthorityError{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CAFrom %q: %v; want it to say %q", tt.caFrom, err, tt.want)
		}
	}
}
