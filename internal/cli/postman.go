package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pleoauth/pleoauth/internal/config"
	"github.com/pleoauth/pleoauth/internal/grant"
	"github.com/pleoauth/pleoauth/internal/privatefile"
)

type postmanOptions struct {
	Output string
}

func newPostmanEnvCmd(d *Deps) *cobra.Command {
	o := &postmanOptions{}
	cmd := &cobra.Command{
		Use:   "postman-env",
		Short: "Write a Postman environment with the API's base URL and a fresh access token",
		Long: `Postman-env writes a Postman environment — the JSON that Postman exports and "newman run
--environment" reads — holding baseUrl (the environment's api_url) and accessToken, valid for at
least --min-ttl, so that collections can send "Authorization: Bearer {{accessToken}}". Newman
cannot refresh OAuth tokens itself; run this before each collection run. The file is written
atomically with mode 0600; its id is the same for each environment, so Postman replaces the
environment on a new import instead of adding another.`,
		Example: `  pleoauth postman-env --env staging --output pleo-staging.postman_environment.json
  newman run collection.json --environment pleo-staging.postman_environment.json
  pleoauth postman-env --min-ttl 30m > env.json`,
		Args: cobra.NoArgs,
		RunE: withGrant(d, false, func(ctx context.Context, g *grant.Grant, _ []string) error {
			return runPostmanEnv(ctx, d, g, o)
		}),
	}
	config.AddFlags(cmd.Flags(), "min_ttl")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "file to write (default: stdout)")
	return cmd
}

// postmanEnvironment is Postman's environment file format.
type postmanEnvironment struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Values     []postmanValue `json:"values"`
	Scope      string         `json:"_postman_variable_scope"`
	ExportedAt string         `json:"_postman_exported_at"`
	ExportedBy string         `json:"_postman_exported_using"`
}

type postmanValue struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Type    string `json:"type"` // "default" or "secret"
	Enabled bool   `json:"enabled"`
}

func runPostmanEnv(ctx context.Context, d *Deps, g *grant.Grant, o *postmanOptions) error {
	bundle, err := g.Token(ctx, grant.Request{MinTTL: g.MinTTL()})
	env := g.Env
	if err != nil {
		return err
	}
	pe := postmanEnvironment{
		ID:   stableUUID("pleoauth postman environment " + env.Name + " " + env.APIURL),
		Name: "pleoauth " + env.Name,
		Values: []postmanValue{
			{Key: "baseUrl", Value: env.APIURL, Type: "default", Enabled: true},
			{Key: "accessToken", Value: bundle.AccessToken, Type: "secret", Enabled: true},
			{Key: "accessTokenExpiresAt", Value: bundle.Expiry.UTC().Format(time.RFC3339), Type: "default", Enabled: true},
		},
		Scope:      "environment",
		ExportedAt: d.Now().UTC().Format(time.RFC3339),
		ExportedBy: "pleoauth/" + d.Build.Resolve().Version,
	}
	if o.Output == "" {
		data, err := postmanJSON(pe)
		if err != nil {
			return err
		}
		_, err = d.Stdout.Write(data)
		return err
	}
	if err := writePostmanFile(o.Output, pe); err != nil {
		return fmt.Errorf("env %s: %w", env.Name, err)
	}
	fmt.Fprintf(d.Stderr, "Wrote %s (Postman environment %q, token valid until %s).\n", o.Output, pe.Name, bundle.Expiry.UTC().Format(time.RFC3339))
	return nil
}

// writePostmanFile writes a Postman environment atomically, mode 0600: it holds a secret.
func writePostmanFile(path string, pe postmanEnvironment) error {
	data, err := postmanJSON(pe)
	if err != nil {
		return err
	}
	return privatefile.Write(path, data)
}

// postmanJSON is the environment as Postman exports it: indented, with a final newline.
func postmanJSON(pe postmanEnvironment) ([]byte, error) {
	data, err := json.MarshalIndent(pe, "", "  ")
	return append(data, '\n'), err
}

// stableUUID derives a version-5-shaped UUID from s, so an environment keeps its id.
func stableUUID(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x50 // version 5
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
