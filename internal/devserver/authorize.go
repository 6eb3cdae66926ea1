package devserver

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"regexp"
	"slices"

	"github.com/ory/fosite"
)

// authorize serves /oauth/authorize: the login and consent page on GET, its answer on POST, or
// straight to the redirect when AutoApprove is set.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Pleo matches the redirect URI exactly; fosite alone would accept any port on 127.0.0.1.
	// An unregistered redirect URI gets an error page, never a redirect (RFC 6749 §4.1.2.1).
	if ru := r.FormValue("redirect_uri"); !slices.Contains(s.opts.RedirectURIs, ru) {
		writeHTML(w, http.StatusBadRequest, errorPage, "The redirect_uri "+ru+" is not registered for this client.")
		return
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	if !s.opts.AutoApprove {
		if r.Method != http.MethodPost {
			s.consentPage(w, r, ar, "")
			return
		}
		if r.PostFormValue("decision") != "approve" {
			s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithHint("The user declined the authorization."))
			return
		}
		if !s.validUser(r.PostFormValue("username"), r.PostFormValue("password")) {
			s.consentPage(w, r, ar, "Wrong username or password.")
			return
		}
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	subject := ar.GetRequestForm().Get("urn_pleo_params_oauth_subject")
	switch {
	case subject == "":
		subject = DemoCompany
	case !subjectURN.MatchString(subject):
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrInvalidRequest.WithHint("urn_pleo_params_oauth_subject must be a subject URN such as urn:pleo:company:<uuid>."))
		return
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: subject, Username: s.opts.Username})
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.stats.add(func(st *Stats) { st.Authorizations++ })
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// subjectURN is the shape of a Pleo subject: urn:pleo:<kind>:<uuid>.
var subjectURN = regexp.MustCompile(`^urn:pleo:[a-z]+:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// DemoCompany is the subject of tokens the server issues when the request names none.
const DemoCompany = "urn:pleo:company:00000000-0000-4000-8000-00000000d3e0"

func (s *Server) validUser(user, password string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.Username))
	p := subtle.ConstantTimeCompare([]byte(password), []byte(s.opts.Password))
	return u&p == 1
}

type consentData struct {
	Client  string
	Scopes  []string
	Action  string
	Message string
	User    string
}

// consentPage posts back to the same URL; the action is built from the query alone, so the
// username and password of a failed attempt never end up in a URL.
func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, message string) {
	writeHTML(w, http.StatusOK, consentPage, consentData{
		Client:  ar.GetClient().GetID(),
		Scopes:  ar.GetRequestedScopes(),
		Action:  "/oauth/authorize?" + r.URL.RawQuery,
		Message: message,
		User:    s.opts.Username,
	})
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in — pleoauth devserver</title>
<style>body{font:16px system-ui,sans-serif;max-width:30em;margin:3em auto;padding:0 1em}
label{display:block;margin:.6em 0}.err{color:#a00}button{margin-right:1em}</style></head>
<body>
<h1>Log in to the local Pleo</h1>
<p><b>{{.Client}}</b> asks for access to:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{if .Message}}<p class="err" id="message">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<p>The demo user is <code>{{.User}}</code>; its password is shown in the server's --help.</p>
<button id="approve" name="decision" value="approve" type="submit">Allow</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button>
</form>
</body></html>`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error — pleoauth devserver</title></head>
<body><h1>Authorization request refused</h1><p id="message">{{.}}</p></body></html>`))

func writeHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No form-action directive: browsers apply it to the redirect that follows the form post,
	// which would block the way back to the client's redirect URI.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}
