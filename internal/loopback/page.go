package loopback

import (
	"html"
	"net/http"
	"strings"
)

// The pages the browser shows after the redirect. The one value a page echoes (%s, inside a
// <p>) is escaped with html.EscapeString, so an error_description carrying markup is shown as
// text. html/template would do the same but links text/template's reflective method calls,
// which make the linker keep every exported method of every type in the binary (7 MB more
// binary, a millisecond more start-up for every "pleoauth token"; docs/performance.md).
const (
	successPage = pageHead + `
<h1 id="result">Logged in</h1>
<p>pleoauth has received the authorization. You can close this tab and return to the terminal.</p>
</body></html>`
	failurePage = pageHead + `
<h1 id="result">Login failed</h1>
<p class="err">%s</p>
<p>Return to the terminal for the next step.</p>
</body></html>`
)

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pleoauth</title>
<style>body{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}.err{color:#a00}</style>
</head><body>`

// writePage sends a page that loads nothing, runs no script and leaks no Referer carrying the
// code (RFC 9700 §4.2.4), and is never cached.
func writePage(w http.ResponseWriter, status int, page string, data string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(strings.Replace(page, "%s", html.EscapeString(data), 1)))
}
