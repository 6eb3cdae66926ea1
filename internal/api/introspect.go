package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
		return Identity{}, fmt.Errorf("GET %s answered %s", resp.Request.URL.Redacted(), resp.Status)
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	var id Identity
	if json.Unmarshal(body, &doc) != nil || len(doc.Data) == 0 || json.Unmarshal(doc.Data, &id) != nil {
		return Identity{}, fmt.Errorf("GET %s answered no {\"data\": …} document", resp.Request.URL.Redacted())
	}
	return id, nil
}
