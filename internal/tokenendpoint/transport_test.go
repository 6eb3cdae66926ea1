package tokenendpoint

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pleoauth/pleoauth/internal/config"
)

// classifyWith sends one refresh request to tokenURL with client and classifies the failure.
func classifyWith(t *testing.T, ctx context.Context, client *http.Client, tokenURL string) *Error {
	t.Helper()
	cfg := OAuth2Config(config.Environment{ClientID: "id", TokenURL: tokenURL, ClientAuth: config.ClientAuthBasic}, "secret")
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "r"}).Token()
	if err == nil {
		t.Fatal("the request succeeded")
	}
	var e *Error
	if !errors.As(Classify(tokenURL, err), &e) {
		t.Fatalf("Classify(%v) is not an *Error", err)
	}
	return e
}

// TestClassifyTransportFailures: a failure without an answer says what went wrong without
// repeating the method and URL, tells a refused certificate (not worth retrying) from a network
// failure (worth retrying), and says whether the request may have reached the server — a
// refresh token sent in it may then be spent already — or surely did not.
func TestClassifyTransportFailures(t *testing.T) {
	tlsServer := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsServer.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake, which is the point
	tlsServer.StartTLS()
	defer tlsServer.Close()
	plainServer := httptest.NewServer(http.NotFoundHandler())
	defer plainServer.Close()
	// A body that breaks off: the headers promise more than is sent.
	cutServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"access")
		buf.Flush()
	}))
	defer cutServer.Close()
	// A server that accepts connections and never says a word: a TLS handshake with it times out.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	refused, _ := net.Listen("tcp", "127.0.0.1:0")
	refusedAddr := refused.Addr().String()
	refused.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name           string
		ctx            context.Context
		client         *http.Client
		url            string
		want           string
		temporary      bool
		untrusted      bool
		maybeProcessed bool
	}{
		{"a certificate the client does not trust", context.Background(), &http.Client{Timeout: 10 * time.Second}, tlsServer.URL + "/oauth/token",
			"has a TLS certificate pleoauth does not trust (x509: certificate signed by unknown authority); if the server uses a private CA, set ca_file", false, true, false},
		{"a plain HTTP server behind an https URL", context.Background(), &http.Client{Timeout: 10 * time.Second}, "https://" + plainServer.Listener.Addr().String() + "/oauth/token",
			"could not be reached (http: server gave HTTP response to HTTPS client); check your network", true, false, true},
		{"an answer that breaks off", context.Background(), &http.Client{Timeout: 10 * time.Second}, cutServer.URL + "/oauth/token",
			"answered, but the answer broke off (unexpected EOF); try again", true, false, true},
		{"a TLS handshake that times out", context.Background(), &http.Client{Transport: &http.Transport{TLSHandshakeTimeout: 50 * time.Millisecond}}, "https://" + silent.Addr().String() + "/oauth/token",
			"could not be reached (timed out)", true, false, true},
		{"a refused connection", context.Background(), &http.Client{Timeout: 10 * time.Second}, "http://" + refusedAddr + "/oauth/token",
			"could not be reached (connect: connection refused)", true, false, false},
		// Given up while the request may have been on its way: it may have been processed.
		{"a login given up", canceled, &http.Client{Timeout: 10 * time.Second}, plainServer.URL + "/oauth/token",
			"could not be reached (context canceled)", true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := classifyWith(t, tt.ctx, tt.client, tt.url)
			msg := e.Error()
			if !strings.HasPrefix(msg, "token endpoint "+tt.url+" ") || !strings.Contains(msg, tt.want) {
				t.Errorf("message %q; want it to contain %q", msg, tt.want)
			}
			if strings.Count(msg, tt.url) != 1 || strings.Contains(msg, "Post ") {
				t.Errorf("message %q repeats the request", msg)
			}
			if e.Temporary() != tt.temporary || e.Untrusted != tt.untrusted || e.MaybeProcessed != tt.maybeProcessed {
				t.Errorf("Temporary %v, Untrusted %v, MaybeProcessed %v; want %v, %v, %v",
					e.Temporary(), e.Untrusted, e.MaybeProcessed, tt.temporary, tt.untrusted, tt.maybeProcessed)
			}
		})
	}
}

// TestClientSecretBasic: the client authenticates with HTTP Basic (RFC 6749 §2.3.1), its ID and
// secret each form-urlencoded before they are joined with ":" — so a secret holding ":" or "%"
// reaches the server intact — and neither is sent in the body.
func TestClientSecretBasic(t *testing.T) {
	const id, secret = "pleo:client id", "s3cr:t%/+é"
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":60}`)
	}))
	defer srv.Close()
	cfg := OAuth2Config(config.Environment{ClientID: id, TokenURL: srv.URL + "/oauth/token", ClientAuth: config.ClientAuthBasic}, secret)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "r"}).Token(); err != nil {
		t.Fatal(err)
	}
	r := <-got
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	if h := r.Header.Get("Authorization"); h != want {
		t.Errorf("Authorization = %q; want %q", h, want)
	}
	if r.PostForm.Has("client_secret") || r.PostForm.Has("client_id") {
		t.Errorf("the client's credentials are in the body too: %v", r.PostForm)
	}
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "r" {
		t.Errorf("form = %v; want a refresh_token grant of r", r.PostForm)
	}
}
