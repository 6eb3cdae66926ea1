package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pleoauth/pleoauth/internal/failure"
)

// TestJSONOutput: --json writes one line of JSON; --jq writes each result on its own line,
// strings raw; no --jq compiles nothing (a plain "pleoauth token" never runs gojq); a bad
// expression is a usage error naming it, found by prepare or, failing on the object, by write.
func TestJSONOutput(t *testing.T) {
	report := struct {
		Env      string   `json:"env"`
		Profiles []string `json:"profiles"`
	}{"local", []string{"default", "acme"}}
	for _, tc := range []struct {
		o       jsonOutput
		want    string
		wantErr string // "" for none; else in the usage error's text
	}{
		{jsonOutput{JSON: true}, `{"env":"local","profiles":["default","acme"]}` + "\n", ""},
		{jsonOutput{JQ: ".profiles[]"}, "default\nacme\n", ""},
		{jsonOutput{JQ: ".profiles"}, `["default","acme"]` + "\n", ""},
		{jsonOutput{JQ: "empty"}, "", ""},
		{jsonOutput{JQ: ".env | halt"}, "", ""},
		{jsonOutput{JQ: ".["}, "", `--jq ".["`},
		{jsonOutput{JQ: ".[0]"}, "", `--jq ".[0]"`},
		{jsonOutput{JQ: "nosuchfunction"}, "", `--jq "nosuchfunction"`},
	} {
		o := tc.o
		var out bytes.Buffer
		err := o.prepare()
		if err == nil {
			err = o.write(context.Background(), &out, report)
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", tc.o, err)
		case tc.wantErr != "" && (err == nil || failure.KindOf(err) != failure.Usage || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%+v: error %v; want a usage error naming %s", tc.o, err, tc.wantErr)
		case out.String() != tc.want:
			t.Errorf("%+v printed %q; want %q", tc.o, out.String(), tc.want)
		}
	}
	var none jsonOutput
	if err := none.prepare(); err != nil || none.filter != nil || none.on() {
		t.Errorf("no flags: prepare = %v, filter %v, on %v; want nothing compiled, no JSON", err, none.filter, none.on())
	}
}
