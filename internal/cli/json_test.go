package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pleoauth/pleoauth/internal/devserver"
	"github.com/pleoauth/pleoauth/internal/exitcode"
)

// jsonReports are the types the reporting commands print with --json, by command.
var jsonReports = map[string]any{
	"token":       tokenReport{},
	"status":      statusReport{},
	"whoami":      whoamiReport{},
	"doctor":      doctorReport{},
	"env":         envReport{},
	"config list": configListReport{},
	"version":     versionReport{},
}

// snakeCase is the one case style of every field pleoauth prints (docs/json.md).
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// fieldPaths lists the JSON fields of t as docs/json.md names them: "refused.at" for an object's
// field, "checks[].name" for the field of an array's objects; an array of t itself is a field of
// its own, not walked again.
func fieldPaths(t reflect.Type, prefix string, seen []reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		out = append(out, path)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeFor[time.Time]():
		case ft.Kind() == reflect.Struct:
			out = append(out, fieldPaths(ft, path+".", append(seen, t))...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem() != t && !slices.Contains(seen, ft.Elem()):
			out = append(out, fieldPaths(ft.Elem(), path+"[].", append(seen, t))...)
		}
	}
	return out
}

// documentedFields reads docs/json.md: the fields of each "## pleoauth COMMAND" section's table.
func documentedFields(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\|")
	out := map[string][]string{}
	command := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if c, ok := strings.CutPrefix(line, "## pleoauth "); ok {
			command = c
			out[command] = []string{}
			continue
		}
		if strings.HasPrefix(line, "## ") {
			command = ""
		}
		if m := row.FindStringSubmatch(line); m != nil && command != "" {
			out[command] = append(out[command], m[1])
		}
	}
	return out
}

// TestJSONFieldsAreDocumented: docs/json.md lists exactly the fields each command's --json
// prints, every one of them snake_case, and a section for every reporting command.
func TestJSONFieldsAreDocumented(t *testing.T) {
	docs := documentedFields(t)
	for command, report := range jsonReports {
		want := fieldPaths(reflect.TypeOf(report), "", nil)
		got, ok := docs[command]
		if !ok {
			t.Errorf("docs/json.md has no section \"## pleoauth %s\"", command)
			continue
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("docs/json.md documents for %s:\n  %v\nthe command prints:\n  %v", command, got, want)
		}
		for _, p := range want {
			for _, part := range strings.Split(strings.ReplaceAll(p, "[]", ""), ".") {
				if !snakeCase.MatchString(part) {
					t.Errorf("%s --json: field %q is not snake_case", command, p)
				}
			}
		}
	}
	for command := range docs {
		if _, ok := jsonReports[command]; !ok {
			t.Errorf("docs/json.md documents %q, which prints no JSON report", command)
		}
	}
}

// jsonKeys lists the field paths of a JSON document as fieldPaths names them.
func jsonKeys(v any, prefix string, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			out[prefix+k] = true
			jsonKeys(e, prefix+k+".", out)
		}
	case []any:
		for _, e := range v {
			jsonKeys(e, strings.TrimSuffix(prefix, ".")+"[].", out)
		}
	}
}

// TestReportingCommandsSpeakJSON: each command that reports accepts --json and --jq, prints one
// JSON object whose every field is snake_case and documented, and --jq filters that object
// through gojq; an expression that does not compile, or fails on the object, exits 2 naming it.
func TestReportingCommandsSpeakJSON(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects
	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	docs := documentedFields(t)
	for _, tc := range []struct {
		args []string
		// code is the exit code, with or without --json.
		code int
		// jq and want: an expression and what it prints.
		jq, want string
	}{
		{[]string{"token"}, exitcode.OK, ".env", "local\n"},
		{[]string{"status"}, exitcode.OK, ".logged_in", "true\n"},
		{[]string{"whoami"}, exitcode.OK, ".subject", devserver.DemoCompany + "\n"},
		{[]string{"doctor"}, -1, ".checks | length > 0", "true\n"},
		{[]string{"env"}, exitcode.OK, `.envs[] | select(.name == "local") | .profiles[0]`, "default\n"},
		{[]string{"config", "list"}, exitcode.OK, `.settings[] | select(.key == "client_id") | .value`, "pleoauth-local\n"},
		{[]string{"version"}, exitcode.OK, ".version", "test\n"},
	} {
		command := strings.Join(tc.args, " ")
		args := append(tc.args, "--env", "local")
		r := h.main(append(args, "--json")...)
		if tc.code >= 0 && r.code != tc.code {
			t.Errorf("%s --json: exit %d; want %d; stderr: %s", command, r.code, tc.code, r.stderr)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("%s --json: not one JSON object on one line (%v):\n%s", command, err, r.stdout)
			continue
		}
		keys := map[string]bool{}
		jsonKeys(doc, "", keys)
		for k := range keys {
			for _, part := range strings.Split(strings.ReplaceAll(k, "[]", ""), ".") {
				if !snakeCase.MatchString(part) {
					t.Errorf("%s --json: field %q is not snake_case", command, k)
				}
			}
			documented := slices.Contains(docs[command], k)
			if outer, inner, ok := strings.Cut(k, "[]."); ok && !documented {
				// An array of the report's own objects (status's profiles) is documented once.
				documented = slices.Contains(docs[command], outer) && slices.Contains(docs[command], inner)
			}
			if !documented {
				t.Errorf("%s --json: field %q is not in docs/json.md", command, k)
			}
		}

		if j := h.main(append(args, "--jq", tc.jq)...); j.stdout != tc.want || tc.code >= 0 && j.code != tc.code {
			t.Errorf("%s --jq %q = (%d, %q); want (%d, %q); stderr: %s", command, tc.jq, j.code, j.stdout, tc.code, tc.want, j.stderr)
		}
		for _, bad := range []string{".[", ".[0]"} {
			j := h.main(append(args, "--jq", bad)...)
			if j.code != exitcode.Usage || j.stdout != "" || !strings.Contains(j.stderr, `--jq "`+bad+`"`) {
				t.Errorf("%s --jq %q = %+v; want exit 2 naming the expression, nothing on stdout", command, bad, j)
			}
			oneLine(t, j.stderr)
		}
	}
}

// TestTokenJSONFlags: token's --format json is --json under its old name; --json does not go
// with another format; a bad --jq is refused before the store is read, so it says exit 2 even
// where no one is logged in.
func TestTokenJSONFlags(t *testing.T) {
	h := newHarness(t)
	h.startDevserver(devserver.Options{AutoApprove: true})
	h.browser = followRedirects

	if r := h.main("token", "--env", "local", "--jq", ".["); r.code != exitcode.Usage || !strings.Contains(r.stderr, `--jq ".["`) {
		t.Errorf("token --jq .[ without a login = %+v; want exit 2 naming the expression", r)
	}
	if r := h.main("login", "--env", "local"); r.code != exitcode.OK {
		t.Fatalf("login: %+v", r)
	}
	j, f := h.main("token", "--env", "local", "--json"), h.main("token", "--env", "local", "--format", "json")
	if j.code != exitcode.OK || f.code != exitcode.OK {
		t.Fatalf("token --json = %+v; --format json = %+v", j, f)
	}
	var a, b tokenReport
	if json.Unmarshal([]byte(j.stdout), &a) != nil || json.Unmarshal([]byte(f.stdout), &b) != nil || a.AccessToken == "" || a.AccessToken != b.AccessToken || a.Env != b.Env {
		t.Errorf("token --json = %q; --format json = %q; want the same object", j.stdout, f.stdout)
	}
	for _, args := range [][]string{{"--json", "--format", "env"}, {"--jq", ".access_token", "--format", "header"}} {
		r := h.main(append([]string{"token", "--env", "local"}, args...)...)
		if r.code != exitcode.Usage || r.stdout != "" || !strings.Contains(r.stderr, "drop one") {
			t.Errorf("token %q = %+v; want exit 2 and nothing on stdout", args, r)
		}
	}
	if r := h.main("token", "--env", "local", "--jq", ".access_token"); r.code != exitcode.OK || r.stdout != a.AccessToken+"\n" {
		t.Errorf("token --jq .access_token = %+v; want the token alone", r)
	}
}
