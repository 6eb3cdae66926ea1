package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// unmarshalBundle decodes a bundle exactly as json.Unmarshal(data, b) would — keys matched
// case-insensitively, a later duplicate winning, unknown keys skipped, null leaving a field
// alone — but walks the object with encoding/json's token reader instead of reflecting over
// the struct. The first reflective decode of a struct in a process builds encoding/json's field
// cache, about a tenth of a millisecond: a fifth of what a cached "pleoauth token" adds to the
// libraries it links (docs/performance.md). Each value is still decoded by encoding/json, so
// what a value may be is encoding/json's to say; FuzzDecodeMatchesUnmarshal holds the two
// decoders to the same answers.
func unmarshalBundle(data []byte, b *Bundle) error {
	d := json.NewDecoder(bytes.NewReader(data))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		var into any
		switch {
		case strings.EqualFold(key, "access_token"):
			into = &b.AccessToken
		case strings.EqualFold(key, "refresh_token"):
			into = &b.RefreshToken
		case strings.EqualFold(key, "token_type"):
			into = &b.TokenType
		case strings.EqualFold(key, "scope"):
			into = &b.Scope
		case strings.EqualFold(key, "expiry"):
			into = &b.Expiry
		case strings.EqualFold(key, "obtained_at"):
			into = &b.ObtainedAt
		case strings.EqualFold(key, "subject"):
			into = &b.Subject
		case strings.EqualFold(key, "refused"):
			into = &b.Refused
		case strings.EqualFold(key, "spent"):
			into = &b.Spent
		case strings.EqualFold(key, "replacing"):
			into = &b.Replacing
		case strings.EqualFold(key, "seed"):
			into = &b.Seed
		default:
			into = new(json.RawMessage)
		}
		if err := d.Decode(into); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}
