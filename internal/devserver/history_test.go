package devserver

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHistory: every token request is logged with what was presented, issued, refused and
// revoked, and what became of its answer; tokens only as fingerprints.
func TestHistory(t *testing.T) {
	s, hs, cfg := start(t, Options{})
	first := login(t, cfg)
	second, err := refresh(cfg, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	s.InjectFault(FaultRotateThenDrop, 1, 0)
	if _, err := refresh(cfg, second.RefreshToken); err == nil {
		t.Fatal("rotate-then-drop answered")
	}
	s.InjectFault(FaultRotateThenTruncate, 1, 0)
	if _, err := refresh(cfg, second.RefreshToken); err == nil {
		t.Fatal("a replay after rotate-then-drop answered (the fault shows, then fosite refuses)")
	}
	s.InjectFault(Fault503, 1, 0)
	if _, err := refresh(cfg, first.RefreshToken); err == nil {
		t.Fatal("503 answered")
	}
	if _, err := refresh(cfg, first.RefreshToken); err == nil {
		t.Fatal("a replay answered")
	}

	h := s.History()
	want := []struct {
		grant, presented, fault, errCode, answer string
		issued, revoked                          bool
	}{
		{"authorization_code", "", "", "", AnswerSent, true, false},
		{"refresh_token", Fingerprint(first.RefreshToken), "", "", AnswerSent, true, false},
		{"refresh_token", Fingerprint(second.RefreshToken), string(FaultRotateThenDrop), "", AnswerDropped, true, false},
		{"refresh_token", Fingerprint(second.RefreshToken), string(FaultRotateThenTruncate), "invalid_grant", AnswerCut, false, true},
		{"refresh_token", Fingerprint(first.RefreshToken), string(Fault503), "", AnswerSent, false, false},
		{"refresh_token", Fingerprint(first.RefreshToken), "", "invalid_grant", AnswerSent, false, true},
	}
	if len(h) != len(want) {
		t.Fatalf("%d events; want %d: %+v", len(h), len(want), h)
	}
	for i, w := range want {
		ev := h[i]
		if ev.Grant != w.grant || ev.Presented != w.presented || string(ev.Fault) != w.fault || ev.Error != w.errCode ||
			ev.Answer != w.answer || (ev.Issued != "") != w.issued || ev.Revoked != w.revoked {
			t.Errorf("event %d: %+v; want %+v", i, ev, w)
		}
		if ev.End.Before(ev.Start) || ev.End.IsZero() || ev.From != "127.0.0.1" {
			t.Errorf("event %d: from %q, %v to %v", i, ev.From, ev.Start, ev.End)
		}
	}
	if h[0].Family == "" || h[1].Family != h[0].Family || h[5].Family != h[0].Family {
		t.Errorf("families %q %q %q; want one login's", h[0].Family, h[1].Family, h[5].Family)
	}
	if h[0].Access != Fingerprint(first.AccessToken) || h[1].Issued != Fingerprint(second.RefreshToken) {
		t.Errorf("issued fingerprints %q %q; want the tokens the client got", h[0].Access, h[1].Issued)
	}
	if left := time.Until(h[1].AccessExpires); left < 50*time.Second || left > 2*time.Minute {
		t.Errorf("access token expires in %v; want about a minute", left)
	}
	for i, ev := range h {
		for _, tok := range []string{first.AccessToken, first.RefreshToken, second.AccessToken, second.RefreshToken} {
			if strings.Contains(ev.Presented+ev.Issued+ev.Access, tok) {
				t.Errorf("event %d holds a token", i)
			}
		}
	}

	// A client that gives up while the server holds its request: the server rotates all the
	// same, and its answer is logged as never reaching the client.
	third := login(t, cfg)
	s.InjectFault(FaultDelay, 1, 500*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClient, testSecret)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the delayed answer came within the client's deadline")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h = s.History()
		if last := h[len(h)-1]; !last.End.IsZero() {
			if last.Answer != AnswerClientGone || last.Issued == "" || last.Fault != FaultDelay {
				t.Errorf("the answer of a client that left: %+v; want rotated and client-gone", last)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delayed request never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFingerprint(t *testing.T) {
	if Fingerprint("") != "" {
		t.Error("no token has a fingerprint")
	}
	a, b := Fingerprint("ory_rt_a"), Fingerprint("ory_rt_b")
	if len(a) != 16 || a == b || a != Fingerprint("ory_rt_a") {
		t.Errorf("fingerprints %q %q", a, b)
	}
}

// TestQueuedDelaysKeepTheirOwn: a delaying fault holds its answer as long as it was queued
// with, whatever is queued after it.
func TestQueuedDelaysKeepTheirOwn(t *testing.T) {
	s, _, cfg := start(t, Options{})
	tok := login(t, cfg)
	s.InjectFault(FaultDelay, 1, 400*time.Millisecond)
	s.InjectFault(FaultDelay, 1, time.Millisecond)
	started := time.Now()
	next, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(started); took < 400*time.Millisecond {
		t.Errorf("the first delayed answer came after %v; want its own 400ms", took)
	}
	if _, err := refresh(cfg, next.RefreshToken); err != nil {
		t.Fatal(err)
	}
	h := s.History()
	if len(h) != 3 || h[1].Fault != FaultDelay || h[2].Fault != FaultDelay || h[1].End.Sub(h[1].Start) < 400*time.Millisecond {
		t.Errorf("history %+v; want two delayed refreshes, the first held 400ms", h)
	}
}
