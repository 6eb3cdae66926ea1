package loopback

import (
	"html/template"
	"net/http"
)

// The pages the browser shows after the redirect. html/template escapes everything echoed, so an
// error_description carrying markup is shown as text. They are parsed when used, not at
// start-up, which only a login needs.
const (
	successPage = pageHead + `
<h1 id="result">Logged in</h1>
<p>pleoauth has received the authorization. You can close this tab and return to the terminal.</p>
</body></html>`
	failurePage = pageHead + `
<h1 id="result">Login failed</h1>
<p class="err">{{.}}</p>
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
	t := template.Must(template.New("page").Parse(page))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}
