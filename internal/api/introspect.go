package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/pleoauth/pleoauth/internal/sanitize"
)

// Identity is what Pleo's GET /v1/introspect says of a token: who it speaks for.
type Identity struct {
	AuthMethod      string `json:"authMethod"`
	ClientID        string `json:"clientId"`
	Scope           string `json:"scope"`
	ApplicationName string `json:"applicationName"`
	// SubjectURN is the Pleo company or organisation: urn:pleo:company:<uuid>.
	SubjectURN string `json:"subjectURN"`
}

// Introspect asks the API who the token speaks for (Pleo: GET {api}/v1/introspect).
func (c *Client) Introspect(ctx context.Context) (Identity, error) {
	resp, err := c.Do(ctx, Request{Path: "/v1/introspect"})
	if err != nil {
		return Identity{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Identity{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return Identity{}, fmt.Errorf("GET %s answered %s", resp.Request.URL.Redacted(), Status(resp))
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	var id Identity
	if json.Unmarshal(body, &doc) != nil || len(doc.Data) == 0 || json.Unmarshal(doc.Data, &id) != nil {
		return Identity{}, fmt.Errorf("GET %s answered no {\"data\": …} document", resp.Request.URL.Redacted())
	}
	return id.cleaned(), nil
}

// cleaned is id with every field made safe to print and store, as each is the server's text:
// login stores the subject, whoami prints them all (also through --jq, which prints strings
// raw). The subject is cleaned, not judged: login records only a Pleo subject URN.
func (id Identity) cleaned() Identity {
	return Identity{
		AuthMethod:      sanitize.Text(id.AuthMethod, 64),
		ClientID:        sanitize.Text(id.ClientID, 200),
		Scope:           sanitize.Scope(id.Scope),
		ApplicationName: sanitize.Text(id.ApplicationName, 200),
		SubjectURN:      sanitize.Text(id.SubjectURN, 200),
	}
}
