package config

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"redis://localhost:6379/0", "redis://localhost:6379/0"},
		{"redis://user:hunter2@localhost:6379/0", "redis://user:xxxxx@localhost:6379/0"},
		{"redis://localhost:6379/0?password=hunter2", "redis://localhost:6379/0?password=xxxxx"},
		{"rediss://h:1/0?db=2&Redis_Pass=hunter2&client_name=ci", "rediss://h:1/0?Redis_Pass=xxxxx&client_name=ci&db=2"},
		{"redis://h:1/0?access_token=hunter2&api_secret=hunter2", "redis://h:1/0?access_token=xxxxx&api_secret=xxxxx"},
		{"unix:///run/redis.sock?password=hunter2", "unix:///run/redis.sock?password=xxxxx"},
		{"redis://h:1/%zz?password=hunter2", "(unparsable URL)"},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q; want %q", c.in, got, c.want)
		}
		if strings.Contains(RedactURL(c.in), "hunter2") {
			t.Errorf("RedactURL(%q) shows the secret", c.in)
		}
	}
}

func TestChildEnvDropsSecrets(t *testing.T) {
	parent := []string{
		"PATH=/bin", "HOME=/home/x", "PLEOAUTH_ENV=staging",
		"PLEOAUTH_CLIENT_SECRET=s", "PLEOAUTH_REFRESH_TOKEN=r", "PLEOAUTH_STORE_KEY=k",
		"PLEOAUTH_REDIS_PASSWORD=p", "PLEOAUTH_SERVE_KEY=v",
		"PLEOAUTH_REDIS_URL=redis://:pw@h:1/0",
	}
	got := ChildEnv(parent, "PLEO_ACCESS_TOKEN=t")
	want := []string{"PATH=/bin", "HOME=/home/x", "PLEOAUTH_ENV=staging", "PLEO_ACCESS_TOKEN=t"}
	if !slices.Equal(got, want) {
		t.Errorf("ChildEnv = %q; want %q", got, want)
	}
	// A Redis URL without a password is no secret: a child that talks to Redis may use it.
	plain := []string{"PLEOAUTH_REDIS_URL=redis://h:1/0"}
	if got := ChildEnv(plain); !slices.Equal(got, plain) {
		t.Errorf("ChildEnv(%q) = %q; want it kept", plain, got)
	}
	for _, v := range []string{"PLEOAUTH_CLIENT_SECRET", "PLEOAUTH_REFRESH_TOKEN", "PLEOAUTH_STORE_KEY", "PLEOAUTH_REDIS_PASSWORD", "PLEOAUTH_SERVE_KEY"} {
		if !slices.Contains(SecretVariables(), v) {
			t.Errorf("SecretVariables() lacks %s", v)
		}
	}
}

// TestFileRedisURLHoldsNoPassword: config.yaml is no place for a password, in user:password@ or
// in the query; a URL without one is kept.
func TestFileRedisURLHoldsNoPassword(t *testing.T) {
	for i, tt := range []struct {
		url     string
		refused bool
	}{
		{"redis://h:6379/0", false},
		{"redis://h:6379/0?db=1", false},
		{"redis://:hunter2@h:6379/0", true},
		{"redis://h:6379/0?password=hunter2", true},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) { // the URL would put its password in the temporary folder's name
			v := setHome(t, "redis_url: "+tt.url+"\n")
			_, err := Load(nil, v.get)
			if got := err != nil && strings.Contains(err.Error(), "holds a password"); got != tt.refused {
				t.Errorf("redis_url %s in config.yaml: %v; want refused %t", tt.url, err, tt.refused)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the refusal shows the password: %v", err)
			}
		})
	}
}
