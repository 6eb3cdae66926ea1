package serve

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// maxLogTarget bounds the path and query in a log line: enough for any request serve answers,
// short enough that a flood of long ones cannot make the log unreadable.
const maxLogTarget = 200

// logTarget is the path and query a request sent, as they appear in serve's log: URL-escaped,
// so that a web page's <img src="http://127.0.0.1:7536/%0a…"> can neither forge log lines
// (%0A stays %0A) nor send the terminal escapes (%1B]52;… would set the clipboard), and bounded.
// Nothing a script may have put the key in by mistake is written: a path is shown only when it
// is one serve answers (/token, /healthz), any other as <other-path> (GET /token/<KEY> must not
// log the key; the 404 says enough); of the query, only the parameters' names and min_ttl's value
// when it is a duration (?min_ttl=1s;<KEY> or ?key={{pleoauthKey}} are <redacted>).
func logTarget(r *http.Request) string {
	target := r.URL.EscapedPath()
	if target != "/token" && target != "/healthz" {
		target = "<other-path>"
	}
	if r.URL.RawQuery != "" {
		params := strings.Split(r.URL.RawQuery, "&")
		for i, p := range params {
			switch name, value, hasValue := strings.Cut(p, "="); {
			case !hasValue && p != "":
				params[i] = "<redacted>" // a bare value, which may be the key itself
			case hasValue && (name != "min_ttl" || !isDuration(value)):
				params[i] = name + "=<redacted>"
			}
		}
		target += "?" + strings.Join(params, "&")
	}
	return logText(target, maxLogTarget)
}

// isDuration reports whether a raw query value is a duration as min_ttl takes it: only then is
// it safe to log, as no key parses as one.
func isDuration(raw string) bool {
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return false
	}
	_, err = time.ParseDuration(v)
	return err == nil
}

// logText escapes every byte of s that is not printable ASCII, a space included, as %XX — which
// keeps a log line one line of space-separated fields, whatever a request sent (a raw query may
// hold UTF-8 C1 controls such as U+009B, a terminal's CSI) — then cuts it to max characters.
func logText(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c > ' ' && c < 0x7f {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&0xf])
		}
	}
	// The project's cleaner has the last word: one line, at most max characters.
	return sanitize.Line(b.String(), max)
}
